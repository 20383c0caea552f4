"""Per-record micro-timings: what one record costs at each step of an import, a reindex and a harvest.

    .venv/bin/python bench/records.py [--records 20000] [--rounds 3]

Builds ``--records`` LoC-like records (the import benchmark's generator, UTF-8 ISO 2709) and, in
this one process, times each step over all of them, ``--rounds`` times after a round to warm up,
and prints the best round as microseconds per record (or per ISBN, document, payload):

- an import worker's steps: reading and checking the ISO 2709 record, preparing it (crosswalk,
  keys, hash), rendering its OAI-PMH payloads, and all three as a worker process runs them;
- a reindex worker's steps: lxml parsing a stored MARCXML record, reading it into a MARC record
  (``parse_record``: the parse and the walk), describing it (``describe_source``, parse included),
  reading records from the catalogue and making their documents, folding and splitting them into
  the words the index writes (``Document.indexed``), all of it as a worker process runs it
  (``documents.prepared``), unpickling what it sends the writer, and the ISBN forms of one ISBN;
- the reindex's writer: the embedded index taking the documents, 2,000 a transaction;
- serving: a stored payload made legal XML (``oai.xmlwrite.payload``), as every record served is.

The catalogue is a SQLite file imported in one process.  One process, one core: the figures add
up to the CPU a record costs, not to the wall time of a run on two cores (bench/import.py,
bench/search.py measure those).
"""

from __future__ import annotations

import argparse
import os
import pickle
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from importlib import import_module
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SITE = "http://kutubxona.bench"


def best_us(step: Callable[[], object], count: int, rounds: int, setup: Callable[[], object] | None = None) -> float:
    """The best of ``rounds`` timed runs of ``step`` (after one to warm up), in µs per one of ``count``.

    ``setup``, when given, runs untimed before each run (fresh inputs for a step that keeps its result).
    """
    times = []
    for n in range(rounds + 1):
        if setup is not None:
            setup()
        started = time.perf_counter()
        step()
        if n:
            times.append(time.perf_counter() - started)
    return min(times) * 1e6 / max(count, 1)


def batches(items: Sequence, size: int) -> list[Sequence]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")

    from lxml import etree
    from sqlalchemy import select

    from repository import create_app
    from repository.actions.importing import ImportOptions
    from repository.catalogue.models import Record
    from repository.metadata import marcxml
    from repository.metadata.description import describe_source
    from repository.metadata.formats import payload, render
    from repository.metadata.identifiers import isbn_forms
    from repository.metadata.marc import split_iso2709
    from repository.metadata.preparing import _prepare_batch, prepare
    from repository.metadata.reading import incoming_iso2709
    from repository.metadata.xmltext import safe_parser
    from repository.oai.xmlwrite import payload as legal_payload
    from repository.search.documents import documents, prepared
    from repository.search.embedded import EmbeddedIndex

    work = Path(tempfile.mkdtemp(prefix="kx-records-"))
    data = work / "records.mrc"
    import_module("bench.import").build(data, args.records, "utf-8")
    with open(data, "rb") as stream:
        raws = list(split_iso2709(stream))
    n, rows = len(raws), []

    def step(part: str, what: str, call: Callable[[], object], count: int = n, setup: Callable | None = None) -> None:
        rows.append((part, what, best_us(call, count, args.rounds, setup)))

    # an import worker's steps
    items = [incoming_iso2709(raw) for raw in raws]
    step("import", "read and check an ISO 2709 record", lambda: [incoming_iso2709(r) for r in raws])
    step("import", "prepare it (crosswalk, keys, hash)", lambda: [prepare(i) for i in items])
    fresh: list = []  # render keeps its result on the record: each round renders records prepared afresh
    step("import", "render its OAI-PMH payloads", lambda: [render(p, p.local_ids()[0], SITE) for p in fresh],
         setup=lambda: fresh.__setitem__(slice(None), [prepare(i) for i in items]))  # fmt: skip
    wire = [(r.position, r.offset, r.data, r.warnings) for r in raws]
    step("import", "all three, as a worker process does",
         lambda: [_prepare_batch(b, "auto", "auto", SITE, None) for b in batches(wire, 500)])  # fmt: skip

    # the catalogue a reindex reads
    conf = {"DATABASE_URL": f"sqlite:///{work / 'catalogue.sqlite3'}", "VAR_DIR": str(work / "var"),
            "AUTO_MIGRATE": "yes", "IMPORT_WORKERS": 0, "BASE_URL": SITE}  # fmt: skip
    services = create_app(conf).extensions["kutubxona"]
    services.importer().import_file(data, ImportOptions())
    with services.db.reading() as session:
        stored = session.execute(select(Record.id, Record.flavour, Record.source).order_by(Record.id)).all()
    ids = [r.id for r in stored]
    sources = [(r.flavour, r.source) for r in stored]
    marc_sources = [s for f, s in sources if f != "dc"]
    lxml_parser = safe_parser()
    step("reindex", "lxml parses a stored MARCXML record",
         lambda: [etree.fromstring(s.encode(), lxml_parser) for s in marc_sources], len(marc_sources))  # fmt: skip
    step("reindex", "parse_record (the parse and the walk)", lambda: [marcxml.parse_record(s) for s in marc_sources],
         len(marc_sources))  # fmt: skip
    step("reindex", "describe_source (parse included)", lambda: [describe_source(f, s) for f, s in sources])
    docs: list = []

    def read_documents() -> None:
        with services.db.reading() as session:
            docs[:] = [d for b in batches(ids, 500) for d in documents(session, b)]

    step("reindex", "read from the catalogue, make documents", read_documents)
    step("reindex", "fold and split into words (indexed)", lambda: [d.indexed() for d in docs])
    db_url = conf["DATABASE_URL"]
    step("reindex", "all of it, as a worker process does",
         lambda: [prepared(db_url, list(b)) for b in batches(ids, 500)])  # fmt: skip
    indexed = [d.indexed() for d in docs]
    sent = [pickle.dumps(list(b)) for b in batches(indexed, 500)]
    step("reindex", "unpickle a document, in the writer", lambda: [pickle.loads(b) for b in sent])
    isbns = [v for d in docs for v in d.fields.get("isbn", [])]
    step("reindex", f"ISBN forms of one ISBN ({len(isbns):,} ISBNs)", lambda: [isbn_forms(i) for i in isbns],
         len(isbns))  # fmt: skip
    indexes: list = []

    def new_index() -> None:
        for index in indexes:
            index.close()
        indexes[:] = [EmbeddedIndex(work / f"index-{time.monotonic_ns()}.sqlite3")]

    step("writer", "the embedded index takes a document",
         lambda: [indexes[0].update(b) for b in batches(indexed, 2000)], setup=new_index)  # fmt: skip
    new_index()

    # serving
    payloads: dict[str, list[bytes]] = {}
    for p in (prepare(i) for i in items):
        if p is not None:
            for prefix, stored_payload in render(p, p.local_ids()[0], SITE).items():
                payloads.setdefault(prefix, []).append(payload(stored_payload, p.source))
    for prefix, xmls in sorted(payloads.items()):
        step("serving", f"one {prefix} payload made legal XML", lambda xmls=xmls: [legal_payload(x) for x in xmls],
             len(xmls))  # fmt: skip
    services.close()

    print(f"\n{n:,} records of the import benchmark's generator, UTF-8; one process; best of {args.rounds} rounds")
    print(f"{'':8} {'step':52} {'µs each':>8}")
    for part, step, us in rows:
        print(f"{part:8} {step:52} {us:8.1f}")
    writer = next(us for part, _, us in rows if part == "writer")
    print(f"the writer alone: {writer * 100_000 / 1e6:.2f} s for 100,000 documents")
    print(f"\nrerun: .venv/bin/python bench/records.py --records {args.records} --rounds {args.rounds}")


if __name__ == "__main__":
    main()
