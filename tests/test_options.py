"""Options as dictConfig and the environment pass them: strings, PIXEL_DEBUG."""

from typing import Any

import pytest

import ez_pixel
from helpers import KEY
from sdk_fixtures import closing  # noqa: F401  (closes what a test's init_pixel made)
from servers import FaultServer

pytestmark = pytest.mark.usefixtures("closing")


def test_options_given_as_strings_as_dict_config_passes_them() -> None:
    with FaultServer([503, 503]) as server:
        ez_pixel.init_pixel(
            KEY,
            server.ingest_url,
            max_retries="1",
            sample_rate="1.0",
            scrub_keys="ssn, iban",
            debug="0",
            runtime="python-custom",
            release="v1.4.2",
        )
        ez_pixel.report_pixel("lookup failed ssn=123-45-6789 iban=DE89370400440532013000")
        ez_pixel.report_pixel("next")
        assert ez_pixel.flush_pixel(10)
        first, retry, second = server.bodies()
    assert first["message"] == "lookup failed ssn=[Filtered] iban=[Filtered]"
    assert retry["event_id"] == first["event_id"] and second["message"] == "next"
    assert first["runtime"] == "python-custom rev:v1.4.2"
    assert ez_pixel.stats()["dropped"] == {"retries_exhausted": 1}


def test_pixel_debug_in_the_environment_turns_debug_on(capfd: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("PIXEL_DEBUG", "1")
    with FaultServer() as server:
        ez_pixel.init_pixel(KEY, server.ingest_url)
        ez_pixel.report_pixel("say it")
        assert ez_pixel.flush_pixel(10)
    err = capfd.readouterr().err
    assert "ez-pixel: sent" in err and "200" in err and KEY not in err
