"""Calls a payment library installed in the project's own .venv."""

import paylib


def charge(amount: int) -> str:
    return paylib.charge(amount)
