"""The ``langlock`` command: one thin module per door; ``app`` puts them together."""

from langlock.cli.app import app

__all__ = ["app"]
