"""The body on the wire is ASCII JSON, whatever the text."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, List

import pytest

import ez_pixel
from helpers import KEY
from sdk_fixtures import closing  # noqa: F401  (closes what a test's init_pixel made)

pytestmark = pytest.mark.usefixtures("closing")


class RawBodies(BaseHTTPRequestHandler):
    """Records each request body as bytes and answers 200."""

    protocol_version = "HTTP/1.1"
    bodies: List[bytes] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        RawBodies.bodies.append(self.rfile.read(int(self.headers["content-length"])))
        self.send_response(200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"{}")


def test_the_json_body_is_ascii() -> None:
    RawBodies.bodies = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), RawBodies)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        ez_pixel.init_pixel(KEY, f"http://127.0.0.1:{server.server_address[1]}/ingest")
        ez_pixel.report_pixel("naïve café \U0001f600 \udcff")
        assert ez_pixel.flush_pixel(10)
    finally:
        server.shutdown()
        server.server_close()
    (body,) = RawBodies.bodies
    assert body.isascii()
    message = json.loads(body)["message"]
    prefix = "naïve café \U0001f600 "
    assert message.startswith(prefix) and len(message) > len(prefix)  # the surrogate, replaced
    assert "\udcff" not in message
