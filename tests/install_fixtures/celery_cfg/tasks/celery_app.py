"""The Celery app."""
import os

from celery import Celery

app = Celery("tasks", broker=os.environ.get("BROKER_URL", "redis://localhost"))


@app.task
def divide(a, b):
    return a / b
