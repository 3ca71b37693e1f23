"""The `app` target: the package skeleton of the generated application and its user-owned
handler modules (see `generator.py`)."""

from contractspec.generators.app.generator import AppGenerator

__all__ = ["AppGenerator"]
