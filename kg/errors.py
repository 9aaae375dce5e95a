"""Specific errors raised by the graph layer; the CLI and web layers map them to messages."""

from __future__ import annotations

from dataclasses import dataclass


class KgError(Exception):
    """Base class for every error the graph layer reports to a user."""


@dataclass(frozen=True)
class Violation:
    """One broken rule in one record: where it is and what is wrong."""

    file: str
    record_id: str
    field: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: record '{self.record_id}', field '{self.field}': {self.message} [{self.rule}]"


class InvalidRecord(KgError):
    """The data breaks one or more rules; nothing was written."""

    def __init__(self, violations: list[Violation]) -> None:
        self.violations = violations
        lines = "\n".join(f"  - {v}" for v in violations)
        super().__init__(f"{len(violations)} violation(s); nothing was written:\n{lines}")


class DataFileError(KgError):
    """A data file cannot be read at all (missing, unparsable, wrong layout)."""


class QueryError(KgError):
    """A SPARQL query is malformed or was refused by the store."""


class StoreError(KgError):
    """The store cannot be opened, read or written."""


class UnsupportedResultFormat(KgError):
    """The answer exists, but the asked format cannot express it (406 over HTTP)."""
