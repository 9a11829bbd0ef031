"""Entry point for the queue consumer: ``huey_consumer webapp.worker.huey``."""

from . import create_app
from .jobs import huey

app = create_app()

__all__ = ["app", "huey"]
