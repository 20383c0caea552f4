"""Searching the catalogue, and rebuilding the index from it."""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from repository.catalogue.models import Record
from repository.errors import Unavailable
from repository.metadata.identifiers import oai_identifier, record_path
from repository.search import REINDEX_GENERATION, REINDEX_LAST, Filters, Query, QueryError, catch_up, parse
from repository.search.alternatives import expand
from repository.search.backend import MAX_WINDOW
from repository.search.documents import Document, Indexed, documents, prepared, to_index
from repository.search.fold import WORD, to_cyrillic, to_latin, visible, words
from repository.search.query import SORTS, Term
from repository.search.snippets import snippets

if TYPE_CHECKING:
    from repository.services import Services

BATCH = 500
READ_IDS = 10_000  # record ids a reindex reads a query (one query per batch took 5% of its writing process)
WRITE = 2_000  # documents a reindex writes a transaction (at 500 its writing process took 10% more CPU time)
MAX_SIZE = 100


def search(
    services: Services,
    text: str,
    page: int = 1,
    size: int = 20,
    sort: str = "relevance",
    filters: Filters | None = None,
    facets: bool = True,
) -> dict:
    """One page of the records matching ``text``: ``total``, ``hits``, ``facets`` and a spelling ``suggestion``.

    The index first catches up with the catalogue; each word is searched with its alternatives the
    index holds (``search.alternatives``); every hit is read back from the catalogue, so a record
    deleted since it was indexed is never shown.
    """
    if sort not in SORTS:
        raise QueryError(f"sort by {', '.join(SORTS)}, not {sort!r}")
    if page < 1 or not 1 <= size <= MAX_SIZE:
        raise QueryError(f"page starts at 1 and size is 1 to {MAX_SIZE}")
    query = parse(text, filters)
    index = services.search
    if index.backend.outdated:
        raise Unavailable("the search index was made by an earlier version of Kutubxona: run `kutubxona reindex`")
    catch_up(services.db, index)
    query = expand(query, index.backend.known)
    # a page past the deepest hit the engines serve is empty (as a page past the last is), not an error; one
    # the window cuts holds the hits up to it (backend.window)
    results = index.backend.search(query, page, size, sort, facets)
    with services.db.reading() as session:
        docs = {d.record_id: d for d in documents(session, [h.record_id for h in results.hits])}
    hits = []
    for hit in results.hits:
        doc = docs.get(hit.record_id)
        if doc is None or doc.deleted:
            continue
        hits.append(_hit(services, doc, hit.score, query))
    suggestion = None
    if results.total < 3 and query.groups:
        suggestion = _suggestion(services, query, results.total)
    return {
        "query": text,
        "total": results.total,
        "page": page,
        "size": size,
        "sort": sort,
        "pages": -(-min(results.total, MAX_WINDOW) // size),  # how many pages can be read
        "hits": hits,
        "facets": {name: [{"value": v, "count": n} for v, n in values] for name, values in results.facets.items()},
        "suggestion": suggestion,
    }


def _hit(services: Services, doc: Document, score: float, query: Query) -> dict:
    out = {
        "id": doc.local_id,
        "oai_identifier": oai_identifier(services.repository_id, doc.local_id),
        "url": services.base_url + record_path(doc.local_id),
        "title": doc.title,
        "authors": doc.authors,
        "year": doc.year,
        "type": doc.kind,
        "score": round(score, 4),
        "snippets": [s.as_json() for s in snippets(doc, query)],
    }
    if doc.hosts:
        out["host"] = doc.hosts[0].as_json()
    return out


def _suggestion(services: Services, query: Query, total: int) -> str | None:
    """The query with its unknown words replaced by the index's closest ones, or None.

    Only words read as typed are replaced (one the index found in another reading was understood), each
    by a word as the records spell it and in the script it was typed in; and the suggestion is made only
    if it finds more than the query did.
    """
    index = services.search
    understood = {t for group in query.groups if any(t.alternative for t in group) for t in group}
    asked = [w for t in query.positive_terms() if not t.alternative and t not in understood for w in t.words]
    found = index.backend.suggest(asked) if asked else {}
    out = query.text
    for word, better in found.items():
        out = _replace_word(out, word, lambda typed, better=better: _spelled(services, better, typed))
    if out == query.text:
        return None
    suggested = expand(parse(out, query.filters), index.backend.known)
    return out if index.backend.search(suggested, 1, 1, "relevance", facets=False).total > total else None


def _replace_word(text: str, folded: str, better: Callable[[str], str]) -> str:
    """``text`` with the first word that folds to ``folded`` replaced by ``better`` of it."""
    for match in WORD.finditer(text):
        if words(match.group()) == [folded]:
            return text[: match.start()] + better(match.group()) + text[match.end() :]
    return text


def _spelled(services: Services, folded: str, typed: str) -> str:
    """The folded word ``folded`` as the records spell it, in the script of ``typed`` and in its case.

    A few records holding it are read for its spelling (Ўзбекистон, not ozbekiston); one in the other
    script only is written in this one by the 1995 rules.
    """
    cyrillic = any("\u0400" <= ch <= "\u04ff" for ch in typed)
    word_alone = Query(folded, [(Term(None, (folded,), prefix=False),)])
    hits = services.search.backend.search(word_alone, 1, 5, "relevance", facets=False)
    spellings = []
    with services.db.reading() as session:
        for doc in documents(session, [h.record_id for h in hits.hits]):
            texts = [doc.title, *(v for values in doc.fields.values() for v in values)]
            spellings += [m.group() for t in texts for m in WORD.finditer(t) if words(m.group()) == [folded]]
    same = [w for w in spellings if any("\u0400" <= ch <= "\u04ff" for ch in w) == cyrillic]
    word = visible(same[0] if same else spellings[0] if spellings else folded)
    if not same:
        word = to_cyrillic(word) if cyrillic else to_latin(word)
    if typed.isupper():
        return word.upper()
    return word[0].upper() + word[1:].lower() if typed[:1].isupper() else word.lower()


PARALLEL_FROM = 5_000  # records: below this, starting worker processes costs more than it saves


def _id_batches(services: Services, after: int) -> Iterator[list[int]]:
    """The record ids after ``after``, ``BATCH`` at a time, in order (read ``READ_IDS`` at a time)."""
    while True:
        with services.db.reading() as session:
            query = select(Record.id).where(Record.id > after).order_by(Record.id).limit(READ_IDS)
            ids = list(session.scalars(query))
        if not ids:
            return
        for start in range(0, len(ids), BATCH):
            yield ids[start : start + BATCH]
        after = ids[-1]


def _documents_after(services: Services, after: int, total: int) -> Iterator[tuple[list[int], list[Indexed]]]:
    """The documents of the records after ``after``, a batch at a time, in order.

    Describing a record and folding its words is most of a reindex's work, so for a catalogue of
    ``PARALLEL_FROM`` records or more it is done in ``IMPORT_WORKERS`` worker processes (spawned: a
    forked child would share this process's connections), a few batches ahead, while this process
    writes the index.  At 100,000 records two workers took the rebuild from 45 to 25 s.
    """
    workers = services.settings.import_workers if total >= PARALLEL_FROM else 0
    if workers < 1:
        for ids in _id_batches(services, after):
            with services.db.reading() as session:
                yield ids, to_index(session, ids)
        return
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        ahead: deque[tuple[list[int], Future[list[Indexed]]]] = deque()
        for ids in _id_batches(services, after):
            ahead.append((ids, pool.submit(prepared, services.settings.database_url, ids)))
            if len(ahead) > 2 * workers:
                ids_done, future = ahead.popleft()
                yield ids_done, future.result()
        while ahead:
            ids_done, future = ahead.popleft()
            yield ids_done, future.result()


def _writes(batches: Iterable[tuple[list[int], list[Indexed]]]) -> Iterator[tuple[int, list[Indexed]]]:
    """The batches' documents ``WRITE`` or more at a time, with the last record id of each group."""
    group: list[Indexed] = []
    for ids, docs in batches:
        group += docs
        last = ids[-1]
        if len(group) >= WRITE:
            yield last, group
            group = []
    if group:
        yield last, group


def reindex(services: Services, restart: bool = False, progress: Callable[[int, int], None] | None = None) -> dict:
    """Rebuild the index from the catalogue into a new generation, then publish it; an interrupted run resumes.

    Searches go on against the published generation until the new one is complete (on
    Elasticsearch an alias swap; the embedded backend rebuilds in place).
    """
    index = services.search
    state = index.state
    last, generation = state.get(REINDEX_LAST), state.get(REINDEX_GENERATION)
    resumed = not restart and last is not None and generation is not None
    if not resumed:
        state.forget_pending()  # everything is read again below
        generation = index.backend.new_generation()
        state.put(REINDEX_GENERATION, generation)
        last = "0"
    after = int(last or 0)
    live = select(func.count()).select_from(Record).where(Record.deleted.is_(False))
    with services.db.reading() as session:
        total = session.scalar(live) or 0
        done = session.scalar(live.where(Record.id <= after)) or 0  # indexed before a resume
    for last_id, docs in _writes(_documents_after(services, after, total)):
        index.backend.update(docs, generation)
        state.put(REINDEX_LAST, str(last_id))
        done += sum(not d.deleted for d in docs)
        if progress:
            progress(done, total)
    index.backend.publish(generation)
    state.put(REINDEX_LAST, None)
    state.put(REINDEX_GENERATION, None)
    catch_up(services.db, index)  # records that changed while it ran
    return {"indexed": index.backend.count(), "resumed": resumed, "backend": index.backend.name}
