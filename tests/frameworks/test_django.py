"""Django: ``LOGGING`` with ``ez_pixel.PixelHandler`` and ``init_pixel`` in ``wsgi.py``.

The example project (``examples/django_project``) is served by a real WSGI
server (``wsgiref``) in a subprocess and answers real HTTP requests.
"""

import json
import logging
from pathlib import Path
from typing import Any, Dict, List

import pytest

pytest.importorskip("django")

from ez_pixel._capture.frameworks import is_client_error, request_of
from helpers import assert_valid

# Serves shop.wsgi.application, sends the requests given in argv, prints the statuses.
SERVE_AND_ASK = """
import json, logging, os, sys, threading, urllib.error, urllib.request
from wsgiref.simple_server import WSGIRequestHandler, make_server

sys.path.insert(0, os.getcwd())
from shop.wsgi import application  # Django set up, then init_pixel()
import ez_pixel

if os.environ.get("OPT_IN"):  # what a user who wants 4xx records reported writes
    ez_pixel.close_pixel()
    ez_pixel.init_pixel(report_client_errors=True)
if os.environ.get("HANDLER_LEVEL"):  # reporting warnings too
    for name in ("", "django"):
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, ez_pixel.PixelHandler):
                handler.setLevel(os.environ["HANDLER_LEVEL"])

class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass

server = make_server("127.0.0.1", 0, application, handler_class=Quiet)
threading.Thread(target=server.serve_forever, daemon=True).start()
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
statuses = []
for request in json.loads(sys.argv[1]):
    url = f"http://127.0.0.1:{server.server_port}{request['path']}"
    try:
        answer = opener.open(urllib.request.Request(url, headers=request.get("headers", {})))
        statuses.append(answer.status)
    except urllib.error.HTTPError as exc:
        statuses.append(exc.code)
print(json.dumps(statuses))
"""

OK = {"path": "/orders/1/total"}
BUG = {"path": "/orders/2/total?coupon=SPRING", "headers": {"Cookie": "sessionid=abc"}}
NOT_FOUND = {"path": "/orders/9/total"}
NO_ROUTE = {"path": "/nowhere"}
BAD_HOST = {"path": "/orders/1/total", "headers": {"Host": "evil.example"}}


def serve(fw: Any, tmp_path: Path, requests: Any, **env: str) -> Any:
    script = tmp_path / "serve_and_ask.py"
    script.write_text(SERVE_AND_ASK)
    result = fw.run(
        [fw.python, str(script), json.dumps(requests)],
        cwd=fw.examples / "django_project",
        env=fw.env(**env),
    )
    assert result.returncode == 0, result.stderr
    assert "ez-pixel" not in result.stderr
    return json.loads(result.stdout)


def test_view_error_is_one_event_and_client_errors_none(
    fw: Any, collector: Any, tmp_path: Path
) -> None:
    requests = [OK, BUG, NOT_FOUND, NO_ROUTE, BAD_HOST]
    statuses = serve(fw, tmp_path, requests, HANDLER_LEVEL="WARNING")
    assert statuses == [200, 500, 404, 404, 400]
    # The process has exited, having flushed: what arrived is all there is.
    (event,) = collector.accepted()
    assert len(collector.received) == 1
    assert_valid(event)
    assert event["type"] == "KeyError" and event["level"] == "error"
    assert event["logger"] == "django.request"
    assert event["message"] == "Internal Server Error: /orders/2/total: 'kiwi'"
    inner = event["stack"][0]  # the exception's own traceback: the view raised it
    assert inner == {**inner, "file": "shop/views.py", "fn": "order_total", "in_app": True}
    assert [f["in_app"] for f in event["stack"]].count(True) == 1
    assert event["code_context"]["file"] == "shop/views.py"
    # Method and route pattern only: no path values, query string, cookies or host.
    assert event["request"] == {"method": "GET", "route": "orders/<int:order_id>/total"}
    assert "SPRING" not in json.dumps(event) and "sessionid" not in json.dumps(event)


def test_client_errors_are_reported_when_opted_in(fw: Any, collector: Any, tmp_path: Path) -> None:
    requests = [NOT_FOUND, BAD_HOST, BUG]
    statuses = serve(fw, tmp_path, requests, OPT_IN="1", HANDLER_LEVEL="WARNING")
    assert statuses == [404, 400, 500]
    by_logger: Dict[str, List[Dict[str, Any]]] = {}
    for event in collector.accepted():
        by_logger.setdefault(event["logger"], []).append(event)
    requests_logged = {e["message"]: e for e in by_logger["django.request"]}
    not_found = requests_logged["Not Found: /orders/9/total"]
    assert not_found["type"] == "LogMessage" and not_found["level"] == "warning"
    assert requests_logged["Internal Server Error: /orders/2/total: 'kiwi'"]["type"] == "KeyError"
    (bad_host,) = by_logger["django.security.DisallowedHost"]
    assert bad_host["level"] == "error"
    assert bad_host["message"].startswith("Invalid HTTP_HOST header: 'evil.example'")
    assert bad_host["request"] == {"method": "GET"}  # rejected before URL resolution


def test_the_client_error_rule_needs_a_request(collector: Any, pixel: Any, events: Any) -> None:
    """An app logging an upstream's 404 has a real error: only Django-style records are skipped."""
    pixel()
    log = logging.getLogger("shop.billing")
    log.error("invoice API answered %s", 404, extra={"status_code": 404})
    log.error("not found", extra={"status_code": 404, "request": object()})
    log.error("server error", extra={"status_code": 503, "request": object()})
    first, second = events(2)
    assert [first["message"], second["message"]] == ["invoice API answered 404", "server error"]
    assert "request" not in first and "request" not in second
    assert len(collector.received) == 2


def test_record_helpers_never_raise() -> None:
    class Hostile:
        @property
        def method(self) -> str:
            raise RuntimeError("no")

    record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "x", None, None)
    assert request_of(record) is None and not is_client_error(record)
    record.request = Hostile()
    record.status_code = True  # a bool is not a status
    assert request_of(record) is None and not is_client_error(record)
    record.status_code = 404
    assert is_client_error(record)
