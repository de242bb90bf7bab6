"""The API."""

from fastapi import FastAPI

from logging_setup import configure_logging

configure_logging()
app = FastAPI(title="svc")


@app.get("/boom")
def boom():
    return {"total": 1 / 0}
