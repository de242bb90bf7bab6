"""``ez_pixel.testing``: the recording collector users run in their own test suites."""

import logging
import socket

import pytest

import ez_pixel
from ez_pixel.testing import RecordingCollector, WaitTimeout, capture_events


def test_capture_events_sees_what_the_sdk_sends() -> None:
    with capture_events() as capture:
        ez_pixel.init_pixel("pk_test_local", capture.ingest_url)
        try:
            logging.getLogger("shop").error("payment declined for order %s", 7)
        finally:
            ez_pixel.close_pixel(timeout=5)
        [event] = capture.wait_for(1)
        assert event["message"] == "payment declined for order 7"
        assert event["project_key"] == "pk_test_local"
        assert [status for status, _, _ in capture.received] == [200]
    with pytest.raises(OSError):  # stopped after the block
        socket.create_connection(("127.0.0.1", capture.port), timeout=1).close()


def test_a_recording_collector_can_be_started_by_hand() -> None:
    with RecordingCollector() as collector:
        ez_pixel.init_pixel("pk_test_local", collector.ingest_url)
        try:
            ez_pixel.report_pixel("lookup failed", KeyError("k"))
        finally:
            ez_pixel.close_pixel(timeout=5)
        [event] = collector.wait_for(1)
        assert event["type"] == "KeyError", event


def test_refusals_are_recorded_and_wait_for_times_out() -> None:
    with capture_events(keys=["pk_test_only"]) as capture:
        ez_pixel.init_pixel("pk_test_other", capture.ingest_url)
        try:
            ez_pixel.report_pixel("refused", ValueError("x"))
            ez_pixel.flush_pixel(5)
        finally:
            ez_pixel.close_pixel(timeout=5)
        with pytest.raises(WaitTimeout, match=r"statuses so far: \[401\]"):
            capture.wait_for(1, timeout=0.1)
