"""Searching the catalogue, and rebuilding the index from it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from repository.catalogue.models import Record
from repository.search import Hit, catch_up
from repository.search.documents import documents

if TYPE_CHECKING:
    from repository.services import Services

BATCH = 500
_WHERE = "reindex.last_id"  # where an unfinished reindex stands


def search(services: Services, query: str, limit: int = 20) -> list[tuple[Hit, Record]]:
    """The records matching ``query``, best first, with their catalogue rows (the index caught up first)."""
    catch_up(services.db, services.search)
    hits = services.search.search(query, limit)
    with services.db.reading() as session:
        rows = {
            r.local_id: r
            for r in session.scalars(select(Record).where(Record.local_id.in_([h.local_id for h in hits])))
        }
    return [(h, rows[h.local_id]) for h in hits if h.local_id in rows and not rows[h.local_id].deleted]


def reindex(services: Services, restart: bool = False, progress: Callable[[int, int], None] | None = None) -> dict:
    """Rebuild the index from the catalogue, in batches; an interrupted run is resumed by the next one."""
    index = services.search
    last = None if restart else index.get_meta(_WHERE)
    resumed = last is not None
    if not resumed:
        index.clear()
    after = int(last or 0)
    with services.db.reading() as session:
        total = session.scalar(select(func.count()).select_from(Record).where(Record.deleted.is_(False))) or 0
    done = 0
    while True:
        with services.db.reading() as session:
            ids = list(session.scalars(select(Record.id).where(Record.id > after).order_by(Record.id).limit(BATCH)))
            if not ids:
                break
            docs = documents(session, ids)
        index.update(docs)
        after = ids[-1]
        index.set_meta(_WHERE, str(after))
        done += sum(not d.deleted for d in docs)
        if progress:
            progress(done, total)
    index.set_meta(_WHERE, None)
    catch_up(services.db, index)  # records that changed while it ran
    return {"indexed": index.count(), "resumed": resumed}
