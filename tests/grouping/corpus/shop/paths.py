"""The same bug reached through two call paths."""

from shop.calc import price


def checkout(item: str) -> float:
    return price({"apple": 1.0}, item) * 2


def cart_view(item: str) -> float:
    return price({"pear": 2.0}, item)
