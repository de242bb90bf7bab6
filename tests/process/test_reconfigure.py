"""Logging configured after ``init_pixel``: errors still reported, once; output unchanged.

Each case is a script that calls ``init_pixel()``, then configures logging one
way, then logs an error and an exception. It runs twice: with ez-pixel, where
exactly two events must arrive, and without, where it must print exactly the
same thing. Scripts run in their own process: the configurations replace
the root logger's handlers, pytest's included.
"""

import textwrap
from pathlib import Path
from typing import Any, Dict

import pytest

from helpers import KEY, run_script

INI = """
[loggers]
keys=root

[handlers]
keys=console

[formatters]
keys=plain

[logger_root]
level=INFO
handlers=console

[handler_console]
class=StreamHandler
formatter=plain
args=(sys.stdout,)

[formatter_plain]
format=file %(levelname)s %(name)s %(message)s
"""

ROOT_CONFIG = (
    '{"version": 1, "formatters": {"plain": {"format": "dict %(levelname)s %(name)s %(message)s"}},'
    ' "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain",'
    ' "stream": "ext://sys.stdout"}}, "root": {"handlers": ["console"], "level": "INFO"}}'
)

#: How each case configures logging after init_pixel().
CONFIGURE: Dict[str, str] = {
    "dictConfig with a root entry": f"logging.config.dictConfig({ROOT_CONFIG})",
    "dictConfig imported before init_pixel": f"early_dict_config({ROOT_CONFIG})",
    "dictConfig, existing loggers disabled": f"""
        logging.getLogger("app.before")  # exists now: disabled by the configuration
        logging.config.dictConfig({{**{ROOT_CONFIG}, "disable_existing_loggers": True}})
        logging.getLogger("app.before").error("disabled: neither printed nor reported")
    """,
    "dictConfig without a root entry": """logging.config.dictConfig({
        "version": 1, "disable_existing_loggers": False,
        "handlers": {"out": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout"}},
        "loggers": {"app.audit": {"handlers": ["out"], "level": "INFO"}},
    })""",
    "dictConfig, incremental": """logging.config.dictConfig(
        {"version": 1, "incremental": True, "root": {"level": "INFO"}})""",
    "dictConfig, root left without handlers": """logging.config.dictConfig(
        {"version": 1, "root": {"handlers": [], "level": "INFO"}})""",
    "fileConfig": "logging.config.fileConfig(INI_PATH)",
    "fileConfig imported before init_pixel": "early_file_config(INI_PATH)",
    "basicConfig": "logging.basicConfig(format='basic %(levelname)s %(message)s')",
    "basicConfig(force=True)": """
        logging.basicConfig(format='first %(message)s')
        logging.basicConfig(force=True, stream=sys.stdout, format='forced %(message)s')
    """,
    "dictConfig twice (Django's setup)": f"""
        logging.config.dictConfig({ROOT_CONFIG})
        logging.config.dictConfig({ROOT_CONFIG})
    """,
}

SCRIPT = """
import logging, logging.config, os, sys
from logging.config import dictConfig as early_dict_config
from logging.config import fileConfig as early_file_config
INI_PATH = "logging.ini"
if os.environ.get("PIX"):
    import ez_pixel
    ez_pixel.init_pixel()
{configure}
log = logging.getLogger("app.orders")
log.info("an info line")
log.warning("a warning line")
log.error("order %s failed", 7)
try:
    {{}}["kiwi"]
except KeyError:
    log.exception("pricing failed")
print("done")
"""


def run(tmp_path: Path, configure: str, url: str = "", **env: str) -> Any:
    (tmp_path / "logging.ini").write_text(INI)
    code = SCRIPT.format(configure=textwrap.dedent(configure).strip())
    result = run_script(tmp_path, code, ingest_url=url or None, env=env)
    assert result.returncode == 0, result.stderr
    return result


@pytest.mark.parametrize("case", sorted(CONFIGURE))
def test_errors_after_a_later_configuration_are_reported_once(
    tmp_path: Path, collector: Any, case: str
) -> None:
    with_pixel = run(tmp_path, CONFIGURE[case], collector.ingest_url, PIX="1")
    arrived = collector.accepted()  # the script flushed at exit: this is all
    assert sorted((e["type"], e["message"]) for e in arrived) == [
        ("KeyError", "pricing failed: 'kiwi'"),
        ("LogMessage", "order 7 failed"),
    ]
    assert len(collector.received) == 2
    without = run(tmp_path, CONFIGURE[case])
    assert (with_pixel.stdout, with_pixel.stderr) == (without.stdout, without.stderr)


def test_a_configuration_naming_its_own_pixel_handler_takes_over(
    tmp_path: Path, collector: Any
) -> None:
    """The app's own root PixelHandler replaces init_pixel's: no second one comes back."""
    configure = """
        logging.config.dictConfig({
            "version": 1,
            "handlers": {"pixel": {"class": "ez_pixel.PixelHandler", "level": "WARNING"}},
            "root": {"handlers": ["pixel"]},
        })
        pixels = [h for h in logging.getLogger().handlers
                  if isinstance(h, ez_pixel.PixelHandler)]
        print(len(pixels), pixels[0].level)
    """
    result = run(tmp_path, configure, collector.ingest_url, PIX="1")
    assert result.stdout.splitlines()[0] == "1 30"
    arrived = collector.accepted()
    assert sorted(e["message"] for e in arrived) == [
        "a warning line",  # reported at the app's level: its handler, not ours
        "order 7 failed",
        "pricing failed: 'kiwi'",
    ]
    assert len(collector.received) == 3


def test_after_close_pixel_a_configuration_brings_nothing_back(
    tmp_path: Path, collector: Any
) -> None:
    configure = f"""
        ez_pixel.close_pixel()
        logging.config.dictConfig({ROOT_CONFIG})
        logging.basicConfig(force=True, format='%(message)s')
        print(logging.config.DictConfigurator.configure.__module__)
        print([type(h).__name__ for h in logging.getLogger().handlers])
    """
    result = run(tmp_path, configure, collector.ingest_url, PIX="1")
    assert result.stdout.splitlines()[:2] == ["logging.config", "['StreamHandler']"]
    assert collector.accepted() == []
    assert len(collector.received) == 0


def test_init_pixel_again_after_close_watches_again(tmp_path: Path, collector: Any) -> None:
    configure = f"""
        ez_pixel.close_pixel()
        ez_pixel.init_pixel("{KEY}", os.environ["PIXEL_INGEST_URL"])
        logging.config.dictConfig({ROOT_CONFIG})
    """
    run(tmp_path, configure, collector.ingest_url, PIX="1")
    assert len(collector.accepted()) == 2
