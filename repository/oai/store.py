"""What the OAI-PMH core reads: the ``Store`` protocol and the rows it returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Criteria:
    """A selective harvest (OAI-PMH 2.7): format, set and inclusive datestamp bounds."""

    prefix: str
    set_spec: str | None
    from_: datetime | None
    until: datetime


@dataclass(frozen=True)
class Item:
    """One record as a list shows it: keyset position, header and (for ListRecords) the payload."""

    key: int  # internal id: with the datestamp, the total order of every list
    local_id: str
    datestamp: datetime
    deleted: bool
    set_specs: tuple[str, ...]
    payload: bytes | None = None
    about: bytes | None = None  # complete <about> elements to send after the metadata


@dataclass(frozen=True)
class SetInfo:
    """A set as ListSets shows it."""

    spec: str
    name: str
    description: str | None


class Store(Protocol):
    """Read access to the records, as the OAI-PMH verbs need it."""

    def earliest_datestamp(self) -> datetime | None:
        """The lowest datestamp of any record, tombstones included (None when there are none)."""
        ...

    def sample_local_id(self) -> str | None:
        """The local identifier of some record, for Identify's sampleIdentifier."""
        ...

    def has_sets(self) -> bool:
        """True when the repository has at least one set."""
        ...

    def set_exists(self, spec: str) -> bool:
        """True when set ``spec`` exists."""
        ...

    def record_formats(self, local_id: str) -> list[str] | None:
        """Prefixes a record is (or, for a tombstone, was) disseminated in; None for an unknown id."""
        ...

    def get(self, local_id: str, prefix: str) -> Item | None:
        """A record with its payload in ``prefix`` (None when it has no such format)."""
        ...

    def count(self, criteria: Criteria) -> int:
        """How many records the criteria select."""
        ...

    def page(self, criteria: Criteria, after: tuple[datetime, int] | None, limit: int, payload: bool) -> list[Item]:
        """Up to ``limit`` records after the keyset position ``after``, ordered by (datestamp, key)."""
        ...

    def sets(self, after: str | None, limit: int) -> list[SetInfo]:
        """Up to ``limit`` sets whose spec sorts after ``after``."""
        ...

    def count_sets(self) -> int:
        """How many sets there are."""
        ...
