"""The `project` target: the package skeleton of the generated application and its user-owned
handler modules (see `generator.py`)."""

from contractspec.generators.project.generator import ProjectGenerator

__all__ = ["ProjectGenerator"]
