"""One error tree for Retain: a user's mistake becomes a message and an exit code, never a traceback.

Modelled on httpx's exceptions: one base class, grouped subclasses, third-party errors mapped into ours.
"""

from __future__ import annotations


class RetainError(Exception):
    """Base of every error Retain raises on purpose. ``hint`` tells the user how to fix it."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  fix: {self.hint}"


class ConfigError(RetainError):
    """A YAML file a user edits (scorecard, trackers, mapping, rules) is invalid."""

    exit_code = 2


class SchemaError(RetainError):
    """Input does not fit the canonical data model (wrong columns, unknown table)."""

    exit_code = 3


class ResultError(SchemaError):
    """A computed result does not fit its declaration in :mod:`retain.results`, or has none."""


class IngestError(RetainError):
    """A load could not be completed; the warehouse is left exactly as before."""

    exit_code = 4


class WarehouseError(RetainError):
    """The analytics warehouse cannot be reached or lacks what a computation needs."""

    exit_code = 5


class ModelError(RetainError):
    """A statistical model cannot be fitted or used as asked."""

    exit_code = 6


class ConvergenceError(ModelError):
    """The optimiser did not converge; the message says what to try."""


class NotFoundError(RetainError):
    """An entity the user named does not exist (or is not visible to them)."""

    exit_code = 7


class ArgumentError(RetainError):
    """A value the user gave (an option, an id) is not one Retain knows; the message lists the valid ones."""

    exit_code = 2
