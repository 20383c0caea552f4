"""An OAI-PMH ``Store`` held in memory: the protocol core tested without HTTP or a database."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from repository.metadata.dc import DublinCore, to_oai_dc
from repository.oai.store import Criteria, Item, SetInfo


@dataclass
class MemoryStore:
    """Records and sets in lists; a record's sets imply their ancestors (OAI-PMH 2.7.2)."""

    items: list[Item] = field(default_factory=list)
    formats: dict[str, set[str]] = field(default_factory=dict)  # local id -> prefixes
    set_infos: list[SetInfo] = field(default_factory=list)
    # what each page() call handed out, (rows, payloads), and each sets() call (rows): what a list
    # costs the database, which a harvester never sees in the response
    reads: list[tuple[int, int]] = field(default_factory=list)
    set_reads: list[int] = field(default_factory=list)

    def add(self, local_id: str, stamp: datetime, sets: tuple[str, ...] = (), deleted: bool = False) -> Item:
        """Add an oai_dc record titled after its local id."""
        dc = DublinCore()
        dc.add("title", f"Kitob {local_id}")
        payload = None if deleted else to_oai_dc(dc).encode()
        item = Item(len(self.items) + 1, local_id, stamp, deleted, tuple(sorted(sets)), payload)
        self.items.append(item)
        self.formats[local_id] = {"oai_dc"}
        return item

    def add_set(self, spec: str, name: str, description: str | None = None) -> None:
        """Add a set; ListSets returns them in spec order."""
        self.set_infos.append(SetInfo(spec, name, description))
        self.set_infos.sort(key=lambda s: s.spec)

    def _in_set(self, item: Item, spec: str) -> bool:
        return any(s == spec or s.startswith(spec + ":") for s in item.set_specs)

    def _selected(self, c: Criteria) -> list[Item]:
        chosen = [
            i
            for i in self.items
            if c.prefix in self.formats[i.local_id]
            and i.datestamp <= c.until
            and (c.from_ is None or i.datestamp >= c.from_)
            and (c.set_spec is None or self._in_set(i, c.set_spec))
        ]
        return sorted(chosen, key=lambda i: (i.datestamp, i.key))

    def earliest_datestamp(self) -> datetime | None:
        """The lowest datestamp."""
        return min((i.datestamp for i in self.items), default=None)

    def sample_local_id(self) -> str | None:
        """The first record's local id."""
        return self.items[0].local_id if self.items else None

    def has_sets(self) -> bool:
        """True when a set exists."""
        return bool(self.set_infos)

    def set_exists(self, spec: str) -> bool:
        """True when set ``spec`` exists."""
        return any(s.spec == spec for s in self.set_infos)

    def record_formats(self, local_id: str) -> list[str] | None:
        """The prefixes of a record; None when unknown."""
        found = self.formats.get(local_id)
        return sorted(found) if found is not None else None

    def get(self, local_id: str, prefix: str) -> Item | None:
        """One record in ``prefix``."""
        if prefix not in self.formats.get(local_id, ()):
            return None
        return next(i for i in self.items if i.local_id == local_id)

    def count(self, criteria: Criteria) -> int:
        """How many records the criteria select."""
        return len(self._selected(criteria))

    def page(self, criteria: Criteria, after: tuple[datetime, int] | None, limit: int, payload: bool) -> list[Item]:
        """The next ``limit`` records after the keyset position ``after``."""
        rows = [i for i in self._selected(criteria) if after is None or (i.datestamp, i.key) > after][:limit]
        rows = rows if payload else [replace(i, payload=None, about=None) for i in rows]
        self.reads.append((len(rows), sum(i.payload is not None for i in rows)))
        return rows

    def sets(self, after: str | None, limit: int) -> list[SetInfo]:
        """Sets after ``after`` in spec order."""
        rows = [s for s in self.set_infos if after is None or s.spec > after][:limit]
        self.set_reads.append(len(rows))
        return rows

    def count_sets(self) -> int:
        """How many sets there are."""
        return len(self.set_infos)
