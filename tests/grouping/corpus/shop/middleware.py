"""A wrapper every request goes through: re-raises whatever happened as AppError."""

from typing import Any, Callable

from shop.errors import AppError, NotFound


def handle(view: Callable[..., Any], *args: Any) -> Any:
    try:
        return view(*args)
    except Exception as exc:
        raise AppError("request failed") from exc


def lookup(view: Callable[..., Any], *args: Any) -> Any:
    try:
        return view(*args)
    except KeyError:
        raise NotFound("no such item")  # noqa: B904 (implicit context on purpose)
