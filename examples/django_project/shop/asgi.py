"""ASGI entry point of the example shop, with ez-pixel."""

import os

from django.core.asgi import get_asgi_application

import ez_pixel

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
application = get_asgi_application()
# Reads PIXEL_PROJECT_KEY and PIXEL_INGEST_URL. Before or after Django's setup
# alike: a later LOGGING does not remove what init_pixel adds.
ez_pixel.init_pixel()
