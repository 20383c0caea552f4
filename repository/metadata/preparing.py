"""Preparing incoming records for the catalogue, in this process or in worker processes.

Reading, validating, crosswalking and rendering an ISO 2709 record costs about as much CPU as
matching and storing it, and all of it is Python: in one process the two add up.  For a large ISO
2709 file a worker process does the first half for batches of records while the importer's process
matches and stores the batches before them (``bench/import.py`` measures both ways).  A batch
goes out as raw bytes and comes back as plain tuples, which pickle six times faster
than the record objects; records come back in file order, and at most ``WINDOW`` batches are in
flight, so memory stays bounded whatever the file size.
"""

from __future__ import annotations

import gc
import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import fields
from itertools import islice
from operator import attrgetter
from typing import Any, BinaryIO

from repository.errors import Unavailable
from repository.metadata.formats import Prepared, prepare_dc, prepare_marc, render
from repository.metadata.marc import RawRecord, split_iso2709
from repository.metadata.reading import Incoming, Limits, incoming_iso2709, read, sniff

BATCH = 500  # records per batch sent to a worker
WINDOW = 4  # batches in flight per worker

_GEN0_THRESHOLD = 50_000  # allocations between collections of the youngest generation (default 700)

Pair = tuple[Incoming, Prepared | None]

# a prepared record crosses back from a worker as the tuple of its fields, in their order
_fields_of = attrgetter(*(f.name for f in fields(Prepared)))


@contextmanager
def collecting_less() -> Iterator[None]:
    """Run the cyclic garbage collector less often for the duration of an import.

    Reading a chunk of records allocates millions of small tuples and strings, none of them in
    cycles; with the default thresholds the collector walks the records in hand over and over, which
    cost a quarter of the import time (bench/import.py).  Collection still runs, 70 times less often.
    """
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], _GEN0_THRESHOLD), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def prepare(item: Incoming) -> Prepared | None:
    """Turn a readable record into a ``Prepared`` one; otherwise leave the reason on the item."""
    if item.rejected or item.skipped:
        return None
    try:
        if item.marc is not None:
            return prepare_marc(item.marc, item.flavour)
        if item.dc is not None:
            return prepare_dc(item.dc, item.header_id)
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        item.rejected = f"cannot prepare record: {type(exc).__name__}: {exc}"
        return None
    item.rejected = "no record content"
    return None


def prepared_records(
    stream: BinaryIO,
    syntax: str = "auto",
    flavour: str = "auto",
    encoding: str = "auto",
    base_url: str = "",
    workers: int = 0,
    file_page: str | None = None,
    skip: int = 0,
    limits: Limits = Limits(),  # noqa: B008 - frozen
) -> Iterator[Pair]:
    """Every record of ``stream`` in file order, with its ``Prepared`` form (None when it cannot be stored).

    With ``workers`` > 0 an ISO 2709 file is read and prepared in that many worker processes, and
    each record comes back already rendered for ``base_url`` under the local identifier it will
    most likely get; XML files are always read here (lxml streams them in this process).  The
    first ``skip`` records (stored by an earlier, interrupted run) are passed over unprepared;
    ``limits`` bound the records of an XML file.
    """
    if workers > 0 and syntax in ("auto", "iso2709") and _is_iso2709(stream):
        yield from _in_workers(stream, flavour, encoding, base_url, workers, file_page, skip)
        return
    for item in islice(read(stream, syntax, flavour, encoding, file_page, limits), skip, None):
        yield item, prepare(item)


def _is_iso2709(stream: BinaryIO) -> bool:
    head = stream.read(4096)
    stream.seek(0)
    try:
        return sniff(head) == "iso2709"
    except ValueError:
        return False  # ``read`` says why, in this process


class WorkerLost(Unavailable, RuntimeError):
    """A worker process preparing records stopped (killed, out of memory); what was stored is kept."""


def _in_workers(
    stream: BinaryIO, flavour: str, encoding: str, base_url: str, workers: int, file_page: str | None, skip: int
) -> Iterator[Pair]:
    # spawn: a forked child would inherit the parent's database connections
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker) as pool:
        pending: deque[tuple[list[RawRecord], Future[list[tuple[Any, ...]]]]] = deque()
        try:
            for batch in _batches(islice(split_iso2709(stream), skip, None), BATCH):
                wire = [(raw.position, raw.offset, raw.data, raw.warnings) for raw in batch]
                pending.append((batch, pool.submit(_prepare_batch, wire, flavour, encoding, base_url, file_page)))
                if len(pending) >= WINDOW * workers:
                    yield from _received(*pending.popleft())
            while pending:
                yield from _received(*pending.popleft())
        except BrokenProcessPool as exc:
            raise WorkerLost(
                "a worker process preparing records stopped unexpectedly; the records stored so far are kept: "
                "import the file again to finish (what is already stored comes out unchanged)"
            ) from exc
        finally:
            for _, future in pending:
                future.cancel()


def _start_worker() -> None:
    gc.set_threshold(_GEN0_THRESHOLD, *gc.get_threshold()[1:])  # for good: see ``collecting_less``


def _batches(raws: Iterable[RawRecord], size: int) -> Iterator[list[RawRecord]]:
    it = iter(raws)
    while batch := list(islice(it, size)):
        yield batch


def _prepare_batch(
    wire: list[tuple[int, int, bytes, list[str]]], flavour: str, encoding: str, base_url: str, file_page: str | None
) -> list[tuple[Any, ...]]:
    """In a worker: read, prepare and render a batch; return each record as a tuple of plain values."""
    out = []
    for position, offset, data, warnings in wire:
        item = incoming_iso2709(RawRecord(position, offset, data, warnings), flavour, encoding, file_page)
        prep = prepare(item)
        slim = None
        if prep is not None:
            render(prep, prep.local_ids()[0], base_url)  # kept on ``prep``, so it travels with the rest
            prep.dc = prep.marc = None  # costly to pickle: ``render`` rebuilds them from the source if need be
            slim = _fields_of(prep)
        out.append((item.flavour, item.rejected, item.skipped, item.warnings, slim))
    return out


def _received(batch: list[RawRecord], future: Future[list[tuple[Any, ...]]]) -> Iterator[Pair]:
    for raw, (flavour, rejected, skipped, warnings, slim) in zip(batch, future.result(), strict=True):
        item = Incoming(raw.position, raw.data, offset=raw.offset, flavour=flavour, warnings=warnings)
        item.rejected, item.skipped = rejected, skipped
        yield item, (None if slim is None else Prepared(*slim))
