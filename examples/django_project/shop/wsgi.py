"""WSGI entry point of the example shop, with ez-pixel."""

import os

from django.core.wsgi import get_wsgi_application

import ez_pixel

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
application = get_wsgi_application()
# After Django configured LOGGING, whose "root" entry would otherwise replace the
# root handler init_pixel adds. Reads PIXEL_PROJECT_KEY and PIXEL_INGEST_URL.
ez_pixel.init_pixel()
