"""The connection: keep-alive, proxies, TLS verification."""

import os
import ssl
from pathlib import Path
from typing import Any, Tuple

import pytest

import ez_pixel
from helpers import KEY
from sdk_fixtures import closing  # noqa: F401  (closes what a test's init_pixel made)
from servers import FaultServer, Proxy, free_port

pytestmark = pytest.mark.usefixtures("closing")


def test_a_stale_keep_alive_connection_is_retried_transparently() -> None:
    with FaultServer(["reset", 200]) as server:
        ez_pixel.init_pixel(KEY, server.ingest_url)
        ez_pixel.report_pixel("after a reset")
        assert ez_pixel.flush_pixel(10)
        assert len(server.bodies()) == 2
    assert ez_pixel.stats()["sent"] == 1


def test_idle_keep_alive_closed_by_the_server_is_transparent() -> None:
    with FaultServer([{"status": 200, "close": True}, {"status": 200, "close": True}]) as server:
        ez_pixel.init_pixel(KEY, server.ingest_url)
        for i in range(3):
            ez_pixel.report_pixel(f"event {i}")
            assert ez_pixel.flush_pixel(5)
        assert [b["message"] for b in server.bodies()] == ["event 0", "event 1", "event 2"]
    stats = ez_pixel.stats()
    assert stats["sent"] == 3 and stats["dropped"] == {}


def test_proxy_from_environment_and_explicit(monkeypatch: Any) -> None:
    with FaultServer() as server, Proxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        ez_pixel.init_pixel(KEY, server.ingest_url)
        ez_pixel.report_pixel("through the proxy")
        assert ez_pixel.flush_pixel(5)
        assert proxy.forwarded == [server.ingest_url]
        ez_pixel.close_pixel()

        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        ez_pixel.init_pixel(KEY, server.ingest_url)
        ez_pixel.report_pixel("bypasses the proxy")
        assert ez_pixel.flush_pixel(5)
        assert len(proxy.forwarded) == 1
        ez_pixel.close_pixel()

        ez_pixel.init_pixel(KEY, server.ingest_url, proxy_url=proxy.url)
        ez_pixel.report_pixel("explicit proxy wins over NO_PROXY")
        assert ez_pixel.flush_pixel(5)
        assert len(proxy.forwarded) == 2
        assert [b["message"] for b in server.bodies()] == [
            "through the proxy",
            "bypasses the proxy",
            "explicit proxy wins over NO_PROXY",
        ]


def private_ca(tmp_path: Path, host: str) -> Tuple[ssl.SSLContext, Path]:
    """A server context with a certificate for ``host``, and the file of the CA that signed it."""
    if os.environ.get("EZ_PIXEL_REQUIRE_FRAMEWORKS") == "1":
        import trustme  # CI and tox: a missing test dependency fails, never skips
    else:
        trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(host).configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return context, ca_file


def test_tls_is_verified_and_a_private_ca_can_be_trusted(tmp_path: Path, capfd: Any) -> None:
    context, ca_file = private_ca(tmp_path, "127.0.0.1")
    with FaultServer(tls=context) as server:
        ez_pixel.init_pixel(KEY, server.ingest_url)
        ez_pixel.report_pixel("never sent unverified")
        assert ez_pixel.flush_pixel(5)
        assert server.bodies() == []
        assert ez_pixel.stats()["dropped"] == {"tls_untrusted": 1}
        assert "CERTIFICATE_VERIFY_FAILED" in capfd.readouterr().err
        ez_pixel.close_pixel()

        ez_pixel.init_pixel(KEY, server.ingest_url, ca_certs=str(ca_file))
        ez_pixel.report_pixel("trusted")
        assert ez_pixel.flush_pixel(5)
        assert [b["message"] for b in server.bodies()] == ["trusted"]


def test_a_certificate_for_another_host_is_refused(tmp_path: Path, capfd: Any) -> None:
    context, ca_file = private_ca(tmp_path, "pixel.example.org")
    with FaultServer(tls=context) as server:
        ez_pixel.init_pixel(KEY, server.ingest_url, ca_certs=str(ca_file))  # trusted CA, wrong host
        ez_pixel.report_pixel("never sent to the wrong host")
        assert ez_pixel.flush_pixel(5)
        assert server.bodies() == []
    assert ez_pixel.stats()["dropped"] == {"tls_untrusted": 1}
    assert "127.0.0.1" in capfd.readouterr().err


def test_an_unreadable_ca_file_is_said_once_and_never_breaks_the_app(
    tmp_path: Path, capfd: Any
) -> None:
    missing = tmp_path / "no-such-ca.pem"
    ez_pixel.init_pixel(KEY, f"https://127.0.0.1:{free_port()}/ingest", ca_certs=str(missing))
    for _ in range(3):
        ez_pixel.report_pixel("never sent")
    assert ez_pixel.flush_pixel(5)
    err = capfd.readouterr().err
    assert err.count("cannot set up delivery to https://127.0.0.1:") == 1
    assert "Traceback" not in err
    stats = ez_pixel.stats()
    assert stats["sent"] == 0 and stats["internal_errors"] == 3
