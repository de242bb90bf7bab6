"""The Flask app factory."""

from flask import Flask


def create_app():
    """Build the app."""
    app = Flask(__name__)

    @app.route("/")
    def index():
        return "ok"

    @app.route("/boom")
    def boom():
        return {"total": 1 / 0}

    return app
