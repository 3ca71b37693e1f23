"""Diagnostics: what every phase reports, with a stable code, a severity and a span."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from contractspec.source import Span


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    HINT = "hint"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2, "hint": 3}[self.value]


class Related(BaseModel):
    """Another place that explains a diagnostic (the first declaration of a duplicate, ...)."""

    model_config = ConfigDict(frozen=True)

    span: Span
    message: str


class Fix(BaseModel):
    """A suggested text edit: replace `span` with `replacement`."""

    model_config = ConfigDict(frozen=True)

    title: str
    span: Span
    replacement: str


class Diagnostic(BaseModel):
    """One finding. `code` is stable (CS1xx syntax, CS2xx names/types, CS3xx policy and
    tenancy, CS4xx workflows, CS5xx events/jobs/notifications/flags, CS6xx releases)."""

    model_config = ConfigDict(frozen=True)

    code: str
    severity: Severity
    message: str
    span: Span
    help: str | None = None
    related: tuple[Related, ...] = ()
    fixes: tuple[Fix, ...] = ()

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.span.file, self.span.start_offset, self.span.end_offset, self.code)
