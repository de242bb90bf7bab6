"""Arithmetic with bugs in it."""

from typing import Dict, List


def ratio(a: float, b: float) -> float:
    return a / b


def price(table: Dict[str, float], key: str) -> float:
    return table[key]


def parse_order(order: Dict[str, str]) -> float:
    """Two bugs in one function: a bad quantity, and a zero count."""
    qty = int(order["qty"])
    per = qty / int(order["count"])
    return per


class Cart:
    """A method bug: Python 3.11+ names it Cart.average, older versions average."""

    def __init__(self, items: List[float]) -> None:
        self.items = items

    def average(self) -> float:
        return sum(self.items) / len(self.items)


# fmt: off
def total(
    items: List[float],
    discount: float,
) -> float:
    return sum(items) / (
        discount
        - discount
    )
# fmt: on
