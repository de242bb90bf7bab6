"""The app's own exception types."""


class AppError(Exception):
    """What the middleware raises for any failure below it."""


class NotFound(AppError):
    """A lookup that found nothing."""
