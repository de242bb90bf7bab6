"""Django under every typical ``LOGGING``: a failing view is exactly one event.

A small project is written to a temporary directory for each case: a settings
module with the case's ``LOGGING``, a view with a bug, and ``init_pixel()`` where
the Quick start puts it (``wsgi.py``, after ``get_wsgi_application()``) or where
many apps put it (the end of ``settings.py``, before Django configures logging).
Requests go through Django's real test client, and once through a real
``manage.py runserver``. Each case also runs without ez-pixel: what the
project prints must be the same.
"""

import json
import textwrap
from pathlib import Path
from typing import Any, Dict, Tuple

import pytest

pytest.importorskip("django")

from helpers import assert_valid
from servers import free_port

# From Django's documentation, "How to configure and use logging" / "Examples"
# (docs/topics/logging.txt): the django logger with its own console handler and
# propagate False, so that django.request never reaches the root logger.
HOWTO = """{
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}"""

LOGGINGS: Dict[str, str] = {
    "none": "None  # Django's DEFAULT_LOGGING only",
    "howto": HOWTO,
    # disable_existing_loggers defaults to True: django and django.request are disabled.
    "root only": """{
        "version": 1,
        "handlers": {"console": {"class": "logging.StreamHandler"}},
        "root": {"handlers": ["console"], "level": "INFO"},
    }""",
    # The 0.1 docs' advice: a PixelHandler of the app's own on "django".
    "pixel on django": """{
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {
            "console": {"class": "logging.StreamHandler"},
            "pixel": {"class": "ez_pixel.PixelHandler", "level": "ERROR"},
        },
        "loggers": {"django": {"handlers": ["console", "pixel"], "propagate": False}},
        "root": {"handlers": ["console"], "level": "INFO"},
    }""",
    # Errors silenced on purpose in the console: still reported.
    "django.request silenced": """{
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"null": {"class": "logging.NullHandler"}},
        "loggers": {"django.request": {"handlers": ["null"], "level": "CRITICAL",
                                       "propagate": False}},
    }""",
}

SETTINGS = """
import os
SECRET_KEY = "test-only"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1"]
ROOT_URLCONF = "site_urls"
INSTALLED_APPS = []
MIDDLEWARE = []
DATABASES = {{}}
LOGGING = {logging}
if LOGGING is None:
    del LOGGING
if os.environ.get("PIX") == "settings":
    import ez_pixel
    ez_pixel.init_pixel()
"""

URLS = """
import logging
from django.http import HttpResponse
from django.urls import path

PRICES = {"apple": 120}

def order_total(request, order_id):
    return HttpResponse(str(PRICES["kiwi"]))  # KeyError: nobody priced the kiwi

def shipping(request):
    logging.getLogger("shop.shipping").error("carrier %s is down", "ACME")
    return HttpResponse("delayed")

urlpatterns = [
    path("orders/<int:order_id>/total", order_total),
    path("shipping", shipping),
]
"""

WSGI = """
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_settings")
from django.core.wsgi import get_wsgi_application
application = get_wsgi_application()
if os.environ.get("PIX") == "wsgi":
    import ez_pixel
    ez_pixel.init_pixel()
"""

ASK = """
import asyncio, json, os, sys
import site_wsgi
from django.test import AsyncClient, Client
if os.environ.get("ASYNC"):  # through Django's ASGI handler and async middleware chain
    client = AsyncClient(raise_request_exception=False)
    statuses = [asyncio.run(client.get(path)).status_code for path in sys.argv[1:]]
else:
    client = Client(raise_request_exception=False)
    statuses = [client.get(path).status_code for path in sys.argv[1:]]
print(json.dumps(statuses))
"""

MANAGE = """
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_settings")
from django.core.management import execute_from_command_line
execute_from_command_line(sys.argv)
"""


def make_project(root: Path, logging_source: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    settings = SETTINGS.format(logging=textwrap.dedent(logging_source).strip())
    files = {"site_settings.py": settings, "site_urls.py": URLS, "site_wsgi.py": WSGI}
    files.update({"ask.py": ASK, "manage.py": MANAGE})
    for name, text in files.items():
        (root / name).write_text(textwrap.dedent(text))
    return root


def ask(fw: Any, project: Path, pix: str, *paths: str, **env: str) -> Tuple[Any, str, str]:
    result = fw.run([fw.python, "ask.py", *paths], cwd=project, env=fw.env(PIX=pix, **env))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), result.stdout, result.stderr


@pytest.mark.parametrize("init", ["wsgi", "settings", "settings, ASGI"])
@pytest.mark.parametrize("setup", sorted(LOGGINGS))
def test_a_failing_view_is_one_event_whatever_the_logging(
    fw: Any, collector: Any, tmp_path: Path, setup: str, init: str
) -> None:
    project = make_project(tmp_path / "site", LOGGINGS[setup])
    pix, _, asgi = init.partition(", ")
    env = {"ASYNC": "1"} if asgi else {}
    statuses, out, err = ask(fw, project, pix, "/orders/2/total", **env)
    assert statuses == [500]
    (event,) = collector.accepted()  # the process flushed at exit: all there is
    assert len(collector.received) == 1
    assert_valid(event)
    assert event["type"] == "KeyError" and event["logger"] == "django.request"
    assert event["message"] == "Internal Server Error: /orders/2/total: 'kiwi'"
    assert event["stack"][0]["fn"] == "order_total" and event["stack"][0]["in_app"]
    assert event["request"] == {"method": "GET", "route": "orders/<int:order_id>/total"}
    # What the project prints is what it printed without ez-pixel.
    assert ask(fw, project, "", "/orders/2/total", **env)[1:] == (out, err)


@pytest.mark.parametrize("setup", ["howto", "root only"])
def test_app_loggers_are_reported_after_django_configured_logging(
    fw: Any, collector: Any, tmp_path: Path, setup: str
) -> None:
    """init_pixel in settings.py, then Django's dictConfig(LOGGING) empties the root logger."""
    project = make_project(tmp_path / "site", LOGGINGS[setup])
    assert ask(fw, project, "settings", "/shipping")[0] == [200]
    (event,) = collector.accepted()
    assert event["message"] == "carrier ACME is down" and event["logger"] == "shop.shipping"


def test_runserver_500_is_one_event_not_two(fw: Any, collector: Any, tmp_path: Path) -> None:
    """The access-log line ``"GET ... HTTP/1.1" 500`` (``django.server``) is not an event."""
    logging_source = HOWTO.replace(
        '"django": {"handlers": ["console"], "level": "INFO", "propagate": False},',
        '"django": {"handlers": ["console", "pixel"], "level": "INFO", "propagate": False},',
    ).replace(
        '"handlers": {"console": {"class": "logging.StreamHandler"}},',
        '"handlers": {"console": {"class": "logging.StreamHandler"},'
        ' "pixel": {"class": "ez_pixel.PixelHandler"}},',
    )
    assert '"pixel"' in logging_source
    project = make_project(tmp_path / "site", logging_source)
    port = free_port()
    app = fw.start(
        [fw.python, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=project,
        env=fw.env(PIX="settings"),
    )
    base = f"http://127.0.0.1:{port}"
    app.wait_until_up(base + "/shipping")
    collector.wait_for(1)  # /shipping logs one error
    assert fw.http("GET", base + "/orders/2/total")[0] == 500
    collector.wait_for(2)
    app.stop()
    output = app.output()
    assert '"GET /orders/2/total HTTP/1.1" 500' in output  # the access line, printed
    assert len(collector.received) == 2
    messages = sorted(e["message"] for e in collector.accepted())
    assert messages == ["Internal Server Error: /orders/2/total: 'kiwi'", "carrier ACME is down"]
