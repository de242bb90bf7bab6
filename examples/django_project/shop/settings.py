"""Settings of the example shop: the ``LOGGING`` entry is what ez-pixel adds.

Run it (from ``examples/django_project``)::

    export PIXEL_PROJECT_KEY=pk_test_me PIXEL_INGEST_URL=http://127.0.0.1:8765/ingest
    python manage.py runserver          # or: gunicorn shop.wsgi / uvicorn shop.asgi:application

then open http://127.0.0.1:8000/orders/2/total (a bug: one event) and
http://127.0.0.1:8000/orders/9/total (a 404: no event).
"""

import os

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-only-not-a-secret")
DEBUG = os.environ.get("DJANGO_DEBUG") == "1"
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
ROOT_URLCONF = "shop.urls"
WSGI_APPLICATION = "shop.wsgi.application"
INSTALLED_APPS: list = []
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
DATABASES: dict = {}
USE_TZ = True

# Any LOGGING works with ez-pixel: init_pixel() in wsgi.py / asgi.py reports
# failing views (through Django's got_request_exception signal and
# django.request), once each, even with "django" non-propagating. 404s and the
# django.security.* errors (DisallowedHost, ...) are about responses below 500
# and are not reported; to report them, pass report_client_errors=True to
# init_pixel (and use level WARNING for 404s); the django.security.* loggers
# must then propagate to the root logger, as they do here.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "django": {"level": "INFO"},
    },
    "root": {"handlers": ["console"], "level": "INFO"},
}
