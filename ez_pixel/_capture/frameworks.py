"""What web frameworks leave on a log record, read cheaply on the caller's thread.

Two questions, asked of every record a :class:`~ez_pixel.PixelHandler` is about
to report, without importing any framework:

- :func:`is_client_error`: is this record about a response below 500 (Django's
  ``Not Found`` warnings, ``DisallowedHost`` and other ``SuspiciousOperation``
  errors, CSRF failures)? Those are the client's mistakes, not bugs, and are
  not reported unless the ``report_client_errors`` option says so.
- :func:`request_of`: the request's method and route pattern, when the
  framework put the request on the record (Django) or in the current context
  (Flask). Only these two: never the URL, query string, headers, cookies, body
  or client address, so nothing that identifies a user is sent.
"""

import logging
import sys
from typing import Any, Dict, Optional

#: Longest method and route sent; a route is the app's own pattern, so short.
MAX_METHOD_CHARS = 16
MAX_ROUTE_CHARS = 200


def is_client_error(record: logging.LogRecord) -> bool:
    """True for a record about a response with a status below 500.

    Such a record carries both ``status_code`` and ``request`` (Django's
    ``log_response`` convention, also used by its security loggers and
    ``runserver``). Either alone is not enough: an application logging an
    upstream API's 404 with ``extra={"status_code": 404}`` has a real error.
    """
    fields = record.__dict__
    status = fields.get("status_code")
    return (
        isinstance(status, int)
        and not isinstance(status, bool)
        and status < 500
        and fields.get("request") is not None
    )


def _text(value: Any, limit: int) -> Optional[str]:
    return value[:limit] if isinstance(value, str) and value else None


def _request(method: Any, route: Any) -> Optional[Dict[str, str]]:
    found: Dict[str, str] = {}
    method_text = _text(method, MAX_METHOD_CHARS)
    if method_text:
        found["method"] = method_text
    route_text = _text(route, MAX_ROUTE_CHARS)
    if route_text:
        found["route"] = route_text
    return found or None


def _django_request(request: Any) -> Optional[Dict[str, str]]:
    """``record.request`` as Django leaves it: an ``HttpRequest`` with ``resolver_match``."""
    match = getattr(request, "resolver_match", None)
    return _request(getattr(request, "method", None), getattr(match, "route", None))


def _flask_request() -> Optional[Dict[str, str]]:
    """The request Flask is handling on this thread, if Flask is loaded and handling one."""
    flask = sys.modules.get("flask")
    if flask is None or not flask.has_request_context():
        return None
    request = flask.request
    rule = getattr(request, "url_rule", None)
    return _request(request.method, getattr(rule, "rule", None))


def request_of(record: logging.LogRecord) -> Optional[Dict[str, str]]:
    """``{"method": "GET", "route": "orders/<int:order_id>/"}`` or None; never raises.

    The route is the pattern the framework matched (``None`` when nothing
    matched), never the path the client asked for.
    """
    try:  # swallowed, written out: a with-block would cost every record
        request = record.__dict__.get("request")
        if request is not None:
            return _django_request(request)
        if "flask" not in sys.modules:
            return None
        return _flask_request()
    except Exception:
        return None
