"""Frameworks by typical logging setups: one failing request or task, exactly one event.

Each case writes a small app to a temporary directory: ``init_pixel()`` as the
Quick start puts it, then the case's logging setup (the app's own
``dictConfig``, a server's ``--log-config``, Celery's ``setup_logging``
signal, ...), and runs it under the real server or worker. One request (or
task) fails; exactly one event must arrive, and servers' access-log lines for
the 500 are never a second one. Django's and Flask's cases are in
``test_django_logging.py`` and ``test_flask.py``.
"""

import json
import os
import signal
import textwrap
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from servers import free_port

#: The app's own logging: a console handler on the root logger, set up after init_pixel.
ROOT_DICT = (
    '{"version": 1, "disable_existing_loggers": False,'
    ' "formatters": {"plain": {"format": "app %(levelname)s %(name)s %(message)s"}},'
    ' "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},'
    ' "root": {"handlers": ["console"], "level": "INFO"}}'
)


def server_dict(name: str) -> str:
    """As ``ROOT_DICT``, with logger ``name`` non-propagating on its own console handler."""
    logger = f'"{name}": {{"handlers": ["console"], "level": "INFO", "propagate": False}}'
    return ROOT_DICT[:-1] + f', "loggers": {{{logger}}}}}'


# -- FastAPI under uvicorn -----------------------------------------------------

FASTAPI_APP = """
import logging, logging.config, os, sys
import ez_pixel
ez_pixel.init_pixel()
{configure}
from fastapi import FastAPI
app = FastAPI()

@app.get("/ok")
async def ok():
    return {{}}

@app.get("/bug")
async def bug():
    return {{}}["kiwi"]

if __name__ == "__main__":
    import uvicorn
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ["PORT"]), log_config={log_config})
"""

FASTAPI: Dict[str, Tuple[str, str, List[str]]] = {
    # case: (configure, uvicorn.run's log_config, how it is started)
    "uvicorn defaults": ("", "uvicorn.config.LOGGING_CONFIG", ["uvicorn"]),
    "app dictConfig with a root entry": (
        f"logging.config.dictConfig({ROOT_DICT})",
        "uvicorn.config.LOGGING_CONFIG",
        ["uvicorn"],
    ),
    "app dictConfig, uvicorn non-propagating": (
        f"logging.config.dictConfig({server_dict('uvicorn')})",
        "uvicorn.config.LOGGING_CONFIG",
        ["uvicorn"],
    ),
    "uvicorn --log-config with a root entry": ("", "None", ["uvicorn", "--log-config"]),
    "uvicorn.run(log_config=root entry) after init_pixel": ("", ROOT_DICT, ["script"]),
}


@pytest.mark.parametrize("case", sorted(FASTAPI))
def test_fastapi_under_uvicorn(fw: Any, collector: Any, tmp_path: Path, case: str) -> None:
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    configure, log_config, launch = FASTAPI[case]
    (tmp_path / "app.py").write_text(
        textwrap.dedent(FASTAPI_APP).format(configure=configure, log_config=log_config)
    )
    port = free_port()
    if launch[0] == "uvicorn":
        argv = [fw.python, "-m", "uvicorn", "app:app", "--port", str(port)]
        if "--log-config" in launch:
            (tmp_path / "log.json").write_text(ROOT_DICT.replace("False", "false"))
            argv += ["--log-config", "log.json"]
    else:
        argv = [fw.python, "app.py"]
    app = fw.start(argv, cwd=tmp_path, env=fw.env(PORT=str(port)))
    base = f"http://127.0.0.1:{port}"
    app.wait_until_up(base + "/ok")
    assert fw.http("GET", base + "/bug")[0] == 500
    (event,) = collector.wait_for(1)
    assert fw.http("GET", base + "/ok")[0] == 200  # the server is still fine
    assert app.stop() in (0, -signal.SIGTERM)
    assert len(collector.received) == 1, app.output()
    assert event["type"] == "KeyError" and event["logger"] == "uvicorn.error"
    assert event["message"] == "Exception in ASGI application: 'kiwi'"
    assert "ez-pixel" not in app.output()


# -- a plain WSGI app under gunicorn --------------------------------------------

WSGI_APP = """
import logging, logging.config
import ez_pixel
ez_pixel.init_pixel()
{configure}

def app(environ, start_response):
    if environ["PATH_INFO"] == "/bug":
        {{}}["kiwi"]
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""

GUNICORN_INI = """
[loggers]
keys=root,gunicorn.error

[handlers]
keys=console

[formatters]
keys=plain

[logger_root]
level=INFO
handlers=console

[logger_gunicorn.error]
level=INFO
handlers=console
propagate=0
qualname=gunicorn.error

[handler_console]
class=StreamHandler
formatter=plain
args=(sys.stderr,)

[formatter_plain]
format=ini %(levelname)s %(name)s %(message)s
"""

GUNICORN: Dict[str, Tuple[str, List[str]]] = {
    "gunicorn defaults": ("", []),
    "gunicorn --log-config (fileConfig)": ("", ["--log-config", "log.ini"]),
    "gunicorn logconfig_dict with a root entry": ("", ["-c", "conf.py"]),
    "app dictConfig with a root entry": (f"logging.config.dictConfig({ROOT_DICT})", []),
    "app dictConfig, gunicorn.error non-propagating": (
        f"logging.config.dictConfig({server_dict('gunicorn.error')})",
        [],
    ),
}


@pytest.mark.parametrize("case", sorted(GUNICORN))
def test_wsgi_app_under_gunicorn(fw: Any, collector: Any, tmp_path: Path, case: str) -> None:
    pytest.importorskip("gunicorn")
    configure, extra = GUNICORN[case]
    (tmp_path / "app.py").write_text(textwrap.dedent(WSGI_APP).format(configure=configure))
    (tmp_path / "log.ini").write_text(GUNICORN_INI)
    # gunicorn merges logconfig_dict into its defaults key by key: name every logger used.
    (tmp_path / "conf.py").write_text(f"logconfig_dict = {server_dict('gunicorn.error')}\n")
    port = free_port()
    argv = [fw.python, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1"]
    argv += ["--access-logfile", "-", *extra, "app:app"]
    app = fw.start(argv, cwd=tmp_path, env=fw.env())
    base = f"http://127.0.0.1:{port}"
    app.wait_until_up(base + "/ok")
    assert fw.http("GET", base + "/bug")[0] == 500
    (event,) = collector.wait_for(1)
    assert app.stop() == 0
    assert len(collector.received) == 1, app.output()
    assert event["type"] == "KeyError" and event["logger"] == "gunicorn.error"
    # gunicorn 23 (the newest for Python 3.8) logs the target alone, later ones the method too.
    assert event["message"] in (
        "Error handling request GET /bug: 'kiwi'",
        "Error handling request /bug: 'kiwi'",
    )


# -- Celery ---------------------------------------------------------------------

TASKS = """
import logging, logging.config, os
from celery import Celery
from celery.signals import setup_logging
import ez_pixel

app = Celery("tasks", broker="filesystem://")
folder = os.environ["BROKER_DIR"]
app.conf.broker_transport_options = {{
    "data_folder_in": folder, "data_folder_out": folder,
    "control_folder": os.path.join(folder, "control"), "polling_interval": 0.05,
}}
ez_pixel.init_pixel()
{configure}

@app.task
def charge(amount):
    raise ValueError(f"cannot charge {{amount}}")
"""

CELERY: Dict[str, str] = {
    "worker hijacks the root logger (default)": "",
    "worker_hijack_root_logger off, app dictConfig": (
        f"app.conf.worker_hijack_root_logger = False\nlogging.config.dictConfig({ROOT_DICT})"
    ),
    "setup_logging signal: the app configures": (
        f"setup_logging.connect(lambda **kwargs: logging.config.dictConfig({ROOT_DICT}),"
        " weak=False)"
    ),
}


@pytest.mark.parametrize("case", sorted(CELERY))
def test_celery_task(fw: Any, collector: Any, tmp_path: Path, case: str) -> None:
    pytest.importorskip("celery")
    from frameworks.test_celery import send

    broker = tmp_path / "broker"
    broker.mkdir()
    (tmp_path / "tasks.py").write_text(textwrap.dedent(TASKS).format(configure=CELERY[case]))
    path = os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
    env = fw.env(BROKER_DIR=str(broker), PYTHONPATH=path)
    argv = [fw.python, "-m", "celery", "-A", "tasks", "worker", "--loglevel=INFO", "-P", "solo"]
    argv += ["--without-heartbeat", "--without-mingle", "--without-gossip"]
    worker = fw.start(argv, cwd=tmp_path, env=env)
    send(broker, "tasks.charge", -5)
    (event,) = collector.wait_for(1, timeout=30)
    assert worker.stop() in (0, -signal.SIGTERM), worker.output()
    assert len(collector.received) == 1
    assert event["type"] == "ValueError" and event["logger"] == "celery.app.trace"
    assert "raised unexpected: ValueError('cannot charge -5')" in worker.output()


# -- plain asyncio ----------------------------------------------------------------

ASYNCIO_APP = """
import asyncio, gc, logging, logging.config, sys
import ez_pixel
ez_pixel.init_pixel()
{configure}

async def fetch(item):
    raise KeyError(item)

async def main():
    task = asyncio.get_running_loop().create_task(fetch("kiwi"))
    await asyncio.sleep(0.05)
    del task
    gc.collect()

asyncio.run(main())
"""

ASYNCIO: Dict[str, str] = {
    "no configuration": "",
    "basicConfig": "logging.basicConfig(format='basic %(message)s')",
    "dictConfig with a root entry": f"logging.config.dictConfig({ROOT_DICT})",
    "dictConfig, asyncio non-propagating": f"logging.config.dictConfig({server_dict('asyncio')})",
}


@pytest.mark.parametrize("case", sorted(ASYNCIO))
def test_asyncio_task_never_retrieved(fw: Any, collector: Any, tmp_path: Path, case: str) -> None:
    (tmp_path / "app.py").write_text(textwrap.dedent(ASYNCIO_APP).format(configure=ASYNCIO[case]))
    result = fw.run([fw.python, "app.py"], cwd=tmp_path, env=fw.env())
    assert result.returncode == 0, result.stderr
    assert "Task exception was never retrieved" in result.stderr  # still printed
    (event,) = collector.accepted()
    assert event["type"] == "KeyError" and event["logger"] == "asyncio"
    assert json.loads(json.dumps(event))["stack"][0]["fn"] == "fetch"
    assert os.sep not in event["stack"][0]["file"]
