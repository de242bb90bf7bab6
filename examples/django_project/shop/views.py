"""Views of the example shop; ``order_total`` has a bug for order 2."""

from django.http import Http404, HttpRequest, JsonResponse

ORDERS = {1: {"item": "apple", "qty": 3}, 2: {"item": "kiwi", "qty": 1}}
PRICES = {"apple": 120, "pear": 90}


def order_total(request: HttpRequest, order_id: int) -> JsonResponse:
    """The order's total in cents; 404 for an unknown order."""
    order = ORDERS.get(order_id)
    if order is None:
        raise Http404("no such order")
    total = PRICES[order["item"]] * order["qty"]  # KeyError: nobody priced the kiwi
    return JsonResponse({"order": order_id, "total": total})
