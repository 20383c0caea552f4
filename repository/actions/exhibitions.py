"""Virtual exhibitions: a set's introduction, cover image and curated, ordered items."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from repository import catalogue
from repository.catalogue import queries
from repository.catalogue.models import OAISet, Record
from repository.errors import KutubxonaError, NotFound
from repository.storage.mime import sniff

if TYPE_CHECKING:
    from repository.services import Services

COVER_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WebP", "image/gif": "GIF"}
COVER_LIMIT = 10 << 20  # a cover is shown on a page, not archived: a few MB at most
SHOWN_PROBLEMS = 5


class ExhibitionError(KutubxonaError, ValueError):
    """An exhibition that cannot be written as asked (a bad cover, an item that is not in the set)."""


@dataclass(frozen=True)
class Item:
    """One line of an items list: a record's local or OAI identifier and its caption."""

    line: int
    ident: str
    caption: str | None


@dataclass(frozen=True)
class Exhibition:
    """What an exhibition holds after it was written."""

    spec: str
    introduction: str | None
    cover_type: str | None
    items: list[str]


def parse_items(text: str) -> list[Item]:
    """An items list: one record per line, ``ID`` or ``ID<TAB>caption``; blank lines and ``#`` comments skipped."""
    items = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        ident, _, caption = line.partition("\t")
        items.append(Item(number, ident.strip(), caption.strip() or None))
    return items


def write_exhibition(
    services: Services,
    spec: str,
    *,
    introduction: str | None = None,
    cover: BinaryIO | None = None,
    items: list[Item] | None = None,
    clear: bool = False,
) -> Exhibition:
    """Write what is given of set ``spec``'s exhibition (``clear`` first empties it); all or nothing."""
    image = _cover_image(cover) if cover is not None else None
    with services.db.transaction() as session:
        the_set = queries.set_by_spec(session, spec)
        if the_set is None:
            raise NotFound(f"no such set: {spec} (create it with `kutubxona sets add`)")
        resolved = _resolved(session, services, the_set, items) if items is not None else None
        if clear:
            the_set.introduction = the_set.cover_key = the_set.cover_type = None
            catalogue.set_exhibit(session, the_set, [])
        if introduction is not None:
            the_set.introduction = introduction.strip() or None
        if image is not None:  # stored once everything else is known to be right
            data, the_set.cover_type = image
            the_set.cover_key = services.store.put(io.BytesIO(data)).key
        if resolved is not None:
            catalogue.set_exhibit(session, the_set, resolved)
        return Exhibition(the_set.spec, the_set.introduction, the_set.cover_type,
                          queries.exhibit_records(session, the_set))  # fmt: skip


def _cover_image(cover: BinaryIO) -> tuple[bytes, str]:
    """A cover image's bytes and type, read from the bytes; only web images of a few MB are taken."""
    data = cover.read(COVER_LIMIT + 1)
    if len(data) > COVER_LIMIT:
        raise ExhibitionError(f"the cover is larger than {COVER_LIMIT >> 20} MB; make it smaller for the web")
    mime = sniff(data[:8192])
    if mime not in COVER_TYPES:
        *some, last = COVER_TYPES.values()
        raise ExhibitionError(f"the cover must be a {', '.join(some)} or {last} image, not {mime}")
    return data, mime


def _resolved(session: Session, services: Services, the_set: OAISet, items: list[Item]) -> list[tuple[int, str | None]]:
    """Each item's record id; every problem (no such record, deleted, not in the set, twice) is named with its line."""
    found = [(item, catalogue.resolve(session, services.repository_id, item.ident)) for item in items]
    ids = [rec.id for _, rec in found if rec is not None]
    members = set(session.scalars(select(Record.id).where(Record.id.in_(ids), catalogue.in_set(the_set.spec))))
    problems, seen, resolved = [], set(), []
    for item, rec in found:
        if rec is None:
            problems.append(f"line {item.line}: no record {item.ident!r}")
        elif rec.deleted:
            problems.append(f"line {item.line}: {rec.local_id} is deleted")
        elif rec.id not in members:
            problems.append(f"line {item.line}: {rec.local_id} is not in set {the_set.spec}")
        elif rec.id in seen:
            problems.append(f"line {item.line}: {rec.local_id} is listed twice")
        else:
            seen.add(rec.id)
            resolved.append((rec.id, item.caption))
    if problems:
        more = len(problems) - SHOWN_PROBLEMS
        shown = "; ".join(problems[:SHOWN_PROBLEMS]) + (f"; and {more} more" if more > 0 else "")
        raise ExhibitionError(f"the items were not written: {shown}")
    return resolved
