"""Query profile: where a search's time goes, in one process, on the search benchmark's catalogue.

    .venv/bin/python bench/queries.py [--records 100000] [--texts 1000] [--rounds 5] [--keep DIR]

Builds the catalogue of ``bench/search.py`` and ``bench/site.py`` (LoC-like records imported into
SQLite, ``--texts`` of them with two pages of text, the embedded index rebuilt), or with ``--keep
DIR`` reuses the one built there, then runs each query of BENCHMARKS.md's table "Where a query's
time went" (and the site benchmark's searches) ``--rounds`` times in this process, after one run to
warm the caches, and prints the best time of each of:

- the search as the site and the API run it (``actions.searching.search``: the index, the page of
  hits read back from the catalogue, their snippets);
- the engine alone (the embedded backend: the page ranked on one connection while a second counts
  the hits and their facets);
- the engine without facets (the page and the count only);

with the number of hits.  No HTTP and no server: for that, ``bench/search.py`` and ``bench/site.py``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from importlib import import_module
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# text, then &name=value for facets, page and sort, as /api/search takes them
QUERIES = ["kutubxona", "tarix&type=book", "kutubxona&page=90", "ўзбекистон", "tarix", "udc:02",
           "kutubxona&type=book&decade=2010", "toshkent&sort=title", "tarix&page=200"]  # fmt: skip


def split(query: str) -> tuple[str, dict[str, list[str]], int, str]:
    """``tarix&type=book&page=2`` -> (text, facet values, page, sort)."""
    text, *pairs = query.split("&")
    facets: dict[str, list[str]] = {}
    page, sort = 1, "relevance"
    for pair in pairs:
        name, _, value = pair.partition("=")
        if name == "page":
            page = int(value)
        elif name == "sort":
            sort = value
        else:
            facets.setdefault(name, []).append(value)
    return text, facets, page, sort


def best_ms(call: Callable[[], object], rounds: int) -> tuple[float, object]:
    """The best of ``rounds`` timed calls after one to warm up, in ms, and what the call returned."""
    result = call()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--texts", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="build the catalogue here once, and reuse it")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    work = args.keep or Path(tempfile.mkdtemp(prefix="kx-queries-"))
    work.mkdir(parents=True, exist_ok=True)
    conf = import_module("bench.site").build(work, args.records, args.texts)

    from repository import create_app
    from repository.actions import searching
    from repository.search import Filters, parse

    services = create_app(conf).extensions["kutubxona"]
    backend = services.search.backend
    rows = []
    for query in QUERIES:
        text, facets, page, sort = split(query)
        filters = Filters()
        for name, values in facets.items():
            for value in values:
                filters.add(name, value)
        whole, found = best_ms(lambda: searching.search(services, text, page, 20, sort, filters), args.rounds)  # noqa: B023
        parsed = parse(text, filters)
        engine, _ = best_ms(lambda: backend.search(parsed, page, 20, sort), args.rounds)  # noqa: B023
        bare, _ = best_ms(lambda: backend.search(parsed, page, 20, sort, facets=False), args.rounds)  # noqa: B023
        rows.append((query, found["total"], whole, engine, bare))
    services.close()

    print(f"\n{args.records} records ({args.texts} with full text), embedded index, in one process; "
          f"best of {args.rounds} runs, ms")  # fmt: skip
    print(f"{'query':34} {'hits':>8} {'search':>8} {'engine':>8} {'no facets':>10}")
    for query, hits, whole, engine, bare in rows:
        print(f"{query:34} {hits:8,} {whole:8.1f} {engine:8.1f} {bare:10.1f}")
    keep = f" --keep {work}" if args.keep else ""
    print(f"\nrerun: .venv/bin/python bench/queries.py --records {args.records} --texts {args.texts} "
          f"--rounds {args.rounds}{keep}")  # fmt: skip


if __name__ == "__main__":
    main()
