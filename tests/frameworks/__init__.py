"""Tests against real frameworks: Django, Flask, FastAPI/uvicorn, Celery, asyncio, gunicorn."""
