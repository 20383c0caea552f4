"""What reading a query's words costs: Russian lemmas (pymorphy3) per word, at query time and as a reindex would.

    .venv/bin/python bench/words.py [--rounds 3]

Loads the sample collection into a fresh SQLite catalogue and embedded index, then times, best of
``--rounds``: folding each record's fields for the index (``Document.indexed``, what a reindex's
worker does after reading and describing the record); looking up every Cyrillic word of those records in
the Russian dictionary, as lemmatising at indexing would (per word and per record, against folding
the record); and, per query word, the Russian reading (dictionary, lemma forms, an
adjective's nouns) and a whole query's alternatives (``search.alternatives.expand``, with the index's
``known``), uncached, as the first time a word is seen, and cached.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUERIES = ["хорезмская археология", "библиотеки", "Петр Иванов", "елкин", "tarixi", "тарихи", "узбекистон тарихи",
           "Ташкент", "kutubxona", "история узбекистана", "oʻzbek tili", "Ayse Celik", "коракалпогистон", "льва",
           "библиотечное дело", "Samarqand"]  # fmt: skip
_CYRILLIC_WORD = re.compile(r"[\u0400-\u04ff]+")


def best(rounds: int, run) -> float:  # noqa: ANN001 (a function of no arguments)
    """The shortest of ``rounds`` runs, in seconds."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from pymorphy3.dawg import EXTENSION_AVAILABLE

    from repository import create_app
    from repository.actions.importing import ImportOptions
    from repository.metadata.sample import build
    from repository.search import alternatives, russian
    from repository.search.documents import documents
    from repository.search.query import parse

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"DAWG C extension: {EXTENSION_AVAILABLE}")  # fmt: skip
    work = Path(tempfile.mkdtemp(prefix="kx-words-"))
    app = create_app({"VAR_DIR": str(work / "var"), "DATABASE_URL": f"sqlite:///{work / 'catalogue.sqlite3'}"})
    services = app.extensions["kutubxona"]
    for sample in build(work / "sample"):
        services.importer().import_file(sample.path, ImportOptions())
    with services.db.reading() as session:
        from repository.catalogue.models import Record

        docs = documents(session, [rid for (rid,) in session.query(Record.id)])
    services.search.backend.update(d.indexed() for d in docs)

    indexing = best(args.rounds, lambda: [d.indexed() for d in docs]) / len(docs)
    texts = [" ".join(d.text(name) for name in d.fields) for d in docs]
    cyrillic = [[w.lower() for w in _CYRILLIC_WORD.findall(t)] for t in texts]
    per_record = sum(map(len, cyrillic)) / len(docs)
    started = time.perf_counter()
    russian._analyser()
    loading = time.perf_counter() - started
    analyser = russian._analyser()
    everything = [w for words in cyrillic for w in words]
    parsing = best(args.rounds, lambda: [analyser.parse(w) for w in everything]) / len(everything)

    words = [w for q in QUERIES for w in q.split()]

    def uncached_readings() -> None:
        russian.reading.cache_clear()
        russian.normal_forms.cache_clear()
        for w in words:
            word = w.lower() if _CYRILLIC_WORD.search(w) else ""
            if word:
                russian.reading(word)

    reading = best(args.rounds, uncached_readings) / sum(bool(_CYRILLIC_WORD.search(w)) for w in words)
    known = services.search.backend.known

    def expand_all(clear: bool) -> None:
        if clear:
            russian.reading.cache_clear()
            russian.normal_forms.cache_clear()
        for q in QUERIES:
            alternatives.expand(parse(q), known)

    first = best(args.rounds, lambda: expand_all(True)) / len(words)
    again = best(args.rounds, lambda: expand_all(False)) / len(words)
    services.close()

    print(f"\n{len(docs)} records of the sample collection, {per_record:.1f} Cyrillic words a record")
    print(f"folding a record's fields for the index (Document.indexed): {indexing * 1e6:8.1f} µs")
    print(f"loading the Russian dictionary (once a process):        {loading * 1e3:8.1f} ms")
    print(f"looking a word up (MorphAnalyzer.parse):                 {parsing * 1e6:8.1f} µs a word")
    print(f"  lemmatising every Cyrillic word of a record at indexing: {parsing * per_record * 1e6:8.1f} µs a record "
          f"({parsing * per_record / indexing:.1f}x folding it)")  # fmt: skip
    print(f"a query word's Russian reading (russian.reading), uncached: {reading * 1e6:8.1f} µs a Cyrillic word")
    print(f"a query's alternatives (expand, with the index's known), per word: {first * 1e6:8.1f} µs uncached, "
          f"{again * 1e6:.1f} µs cached")  # fmt: skip
    print(f"\nrerun: .venv/bin/python bench/words.py --rounds {args.rounds}")


if __name__ == "__main__":
    main()
