"""Log records become events: exception and message events, levels, configs."""

import logging
import logging.config
import textwrap
from pathlib import Path
from typing import Any

import pytest

import ez_pixel
from helpers import KEY, assert_valid, run_script

log = logging.getLogger("tests.app")


def charge(amount: int) -> int:
    if amount < 0:
        raise ValueError(f"negative amount {amount}")
    return amount


def test_logger_exception_becomes_exception_event(pixel: Any, events: Any) -> None:
    pixel()
    try:
        charge(-5)
    except ValueError:
        log.exception("payment failed")
    (event,) = events(1)
    assert_valid(event)
    assert event["type"] == "ValueError"
    assert event["message"] == "payment failed: negative amount -5"
    assert event["level"] == "error"
    assert event["manual_report"] is False
    assert event["project_key"] == KEY
    inner = event["stack"][0]
    assert inner["fn"] == "charge" and inner["file"] == "tests/process/test_logging.py"
    assert inner["in_app"] is True
    assert event["stack"][1]["fn"] == "test_logger_exception_becomes_exception_event"
    context = event["code_context"]
    assert context["file"] == "tests/process/test_logging.py"
    assert context["error_line"] == inner["line"]
    failing = context["lines"][context["error_line"] - context["start_line"]]
    assert failing.strip() == 'raise ValueError(f"negative amount {amount}")'
    assert event["logger"] == "tests.app"


def test_message_not_repeated_when_log_text_is_the_exception_text(pixel: Any, events: Any) -> None:
    pixel()
    try:
        charge(-1)
    except ValueError as exc:
        log.error("%s", exc, exc_info=True)
    (event,) = events(1)
    assert event["message"] == "negative amount -1"


@pytest.mark.parametrize(
    ("log_level", "wire_level"),
    [(logging.CRITICAL, "fatal"), (logging.ERROR, "error"), (logging.WARNING, "warning")],
)
def test_levels_map_to_the_server_levels(
    pixel: Any, events: Any, log_level: int, wire_level: str
) -> None:
    pixel()
    logging.getLogger().handlers[-1].setLevel(logging.DEBUG)
    log.info("never sent")
    log.debug("never sent either")
    log.log(log_level, "at %s", log_level)
    (event,) = events(1)
    assert event["level"] == wire_level
    assert event["message"] == f"at {log_level}"


def test_message_events_group_by_template_not_values(pixel: Any, events: Any) -> None:
    pixel()
    for user in (1, 2):
        log.error("user %s failed", user)
    log.error("other failure %s", 1)
    first, second, third = events(3)
    for event in (first, second, third):
        assert_valid(event)
        assert event["type"] == "LogMessage"
    assert first["message"] == "user 1 failed" and second["message"] == "user 2 failed"
    assert first["fingerprint"] == second["fingerprint"]
    assert third["fingerprint"] != first["fingerprint"]
    assert first["stack"][0]["fn"] == "test_message_events_group_by_template_not_values"
    assert first["stack"][0]["file"] == "tests/process/test_logging.py"
    assert (
        first["code_context"]["lines"][
            first["code_context"]["error_line"] - first["code_context"]["start_line"]
        ].strip()
        == 'log.error("user %s failed", user)'
    )


def test_exc_info_forms(pixel: Any, events: Any) -> None:
    pixel()
    try:
        raise KeyError("k1")
    except KeyError as exc:
        log.error("instance", exc_info=exc)
    try:
        raise OSError("disk")
    except OSError:
        import sys

        log.error("tuple", exc_info=sys.exc_info())
    log.error("true outside except", exc_info=True)
    instance, as_tuple, outside = events(3)
    assert instance["type"] == "KeyError" and instance["message"] == "instance: 'k1'"
    assert as_tuple["type"] == "OSError" and as_tuple["message"] == "tuple: disk"
    assert outside["type"] == "LogMessage" and outside["message"] == "true outside except"


def test_init_attaches_one_root_handler_and_close_removes_it(pixel: Any) -> None:
    root = logging.getLogger()
    before = [h for h in root.handlers if isinstance(h, ez_pixel.PixelHandler)]
    pixel()
    attached = [h for h in root.handlers if isinstance(h, ez_pixel.PixelHandler)]
    assert len(attached) == len(before) + 1 and attached[-1].level == logging.ERROR
    ez_pixel.close_pixel()
    assert [h for h in root.handlers if isinstance(h, ez_pixel.PixelHandler)] == before


def test_init_keeps_an_existing_root_handler(pixel: Any, events: Any) -> None:
    root = logging.getLogger()
    mine = ez_pixel.PixelHandler()
    root.addHandler(mine)
    try:
        pixel()
        assert [h for h in root.handlers if isinstance(h, ez_pixel.PixelHandler)] == [mine]
        log.error("once")
        assert len(events(1)) == 1
    finally:
        root.removeHandler(mine)


def test_record_reaching_two_handlers_is_reported_once(
    pixel: Any, events: Any, collector: Any
) -> None:
    pixel()
    child = logging.getLogger("tests.twice")
    extra = ez_pixel.PixelHandler()
    child.addHandler(extra)
    try:
        child.error("seen by two handlers")
        try:
            charge(-2)
        except ValueError:
            child.exception("and this one too")
        events(2)
        ez_pixel.flush_pixel(2)
        assert len(collector.received) == 2
    finally:
        child.removeHandler(extra)


def test_dict_config_with_own_client(collector: Any) -> None:
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "handlers": {
                "pixel": {
                    "class": "ez_pixel.PixelHandler",
                    "level": "WARNING",
                    "project_key": KEY,
                    "ingest_url": collector.ingest_url,
                    "context_lines": 2,
                }
            },
            "loggers": {"tests.dict": {"handlers": ["pixel"], "level": "INFO"}},
        }
    )
    logger = logging.getLogger("tests.dict")
    handler = logger.handlers[0]
    try:
        logger.warning("configured by dictConfig")
        handler.flush()
        (event,) = collector.wait_for(1)
        assert event["level"] == "warning" and event["message"] == "configured by dictConfig"
        assert len(event["code_context"]["lines"]) == 5
    finally:
        logger.removeHandler(handler)
        handler.close()


def test_file_config(tmp_path: Path, collector: Any) -> None:
    ini = tmp_path / "logging.ini"
    ini.write_text(
        textwrap.dedent(
            f"""
            [loggers]
            keys=root,app

            [handlers]
            keys=pixel

            [formatters]
            keys=

            [logger_root]
            handlers=

            [logger_app]
            qualname=tests.fileconfig
            handlers=pixel

            [handler_pixel]
            class=ez_pixel.PixelHandler
            level=ERROR
            args=()
            kwargs={{"project_key": "{KEY}", "ingest_url": "{collector.ingest_url}"}}
            """
        )
    )
    logging.config.fileConfig(str(ini), disable_existing_loggers=False)
    logger = logging.getLogger("tests.fileconfig")
    handler = logger.handlers[0]
    try:
        logger.error("configured by fileConfig")
        handler.flush()
        (event,) = collector.wait_for(1)
        assert event["message"] == "configured by fileConfig"
    finally:
        logger.removeHandler(handler)
        handler.close()


def test_logging_shutdown_delivers_a_handler_owned_client(tmp_path: Path, collector: Any) -> None:
    result = run_script(
        tmp_path,
        f"""
        import logging, logging.config
        logging.config.dictConfig({{
            "version": 1,
            "handlers": {{"pixel": {{"class": "ez_pixel.PixelHandler",
                                    "project_key": "{KEY}",
                                    "ingest_url": "{collector.ingest_url}"}}}},
            "root": {{"handlers": ["pixel"]}},
        }})
        for i in range(5):
            logging.getLogger("job").error("job %d failed", i)
        """,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    arrived = collector.wait_for(5)
    assert sorted(e["message"] for e in arrived) == [f"job {i} failed" for i in range(5)]


def test_handler_without_init_uses_the_environment(tmp_path: Path, collector: Any) -> None:
    result = run_script(
        tmp_path,
        """
        import logging
        import ez_pixel
        logging.getLogger().addHandler(ez_pixel.PixelHandler())
        logging.getLogger("svc").error("from env config")
        print(ez_pixel.report_pixel("manual from env"))
        """,
        ingest_url=collector.ingest_url,
    )
    assert result.returncode == 0, result.stderr
    arrived = collector.wait_for(2)
    assert {e["message"] for e in arrived} == {"from env config", "manual from env"}


def test_sdk_and_urllib3_loggers_never_become_events(pixel: Any, collector: Any) -> None:
    pixel()
    logging.getLogger("ez_pixel").error("internal")
    logging.getLogger("urllib3.connectionpool").error("transport")
    log.error("marker")
    (event,) = collector.wait_for(1)
    ez_pixel.flush_pixel(2)
    assert event["message"] == "marker"
    assert len(collector.received) == 1


def test_loggers_sharing_only_a_prefix_with_ours_are_reported(pixel: Any, events: Any) -> None:
    # The app's own "ez_pixel_shop" or "urllib3_mock" loggers are not ours:
    # only "ez_pixel", "urllib3" and their children are left out.
    pixel()
    logging.getLogger("ez_pixel_shop.views").error("from the shop")
    logging.getLogger("urllib3_mock").error("from the mock")
    logging.getLogger("ez_pixel.worker").error("ours")
    arrived = events(2)
    ez_pixel.flush_pixel(2)
    assert sorted((e["logger"], e["message"]) for e in arrived) == [
        ("ez_pixel_shop.views", "from the shop"),
        ("urllib3_mock", "from the mock"),
    ]


def test_ignore_logger_silences_one_logger_and_its_children_by_exact_name(
    pixel: Any, collector: Any
) -> None:
    pixel()
    ez_pixel.ignore_logger("tests.noisy")
    logging.getLogger("tests.noisy").error("ignored")
    logging.getLogger("tests.noisy.http").error("ignored child")
    logging.getLogger("tests.noisy_neighbour").error("neighbour")
    logging.getLogger("tests").error("parent")
    ez_pixel.flush_pixel(5)
    arrived = collector.wait_for(2)
    assert sorted(e["message"] for e in arrived) == ["neighbour", "parent"]
    assert len(collector.received) == 2
