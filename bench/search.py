"""Search benchmark: indexing speed and /api/search latency on the embedded backend, osmem for reference.

    .venv/bin/python bench/search.py [--records 100000] [--texts 1000] [--queries 300] [--no-osmem]

Builds ``--records`` LoC-like records (the import benchmark's generator) and imports them into a
fresh SQLite catalogue, timing the import (the baseline indexing is compared with); gives
``--texts`` records an open file of two pages of generated Uzbek and Russian text; rebuilds the
index with ``reindex`` (documents/s); then serves the catalogue with ``kutubxona serve`` and sends
``--queries`` mixed queries through /api/search on one keep-alive connection: one box, fielded,
phrases, facet filters, sorting and deep pages, reporting p50 and p95 by kind and overall, next to
the same query texts run as bare FTS5 MATCH statements on the index file (the engine's own cost,
measured in the same run).  With osmem-server installed, the same index and queries on its
OpenSearch API, for reference (osmem is an in-memory test double, not a production engine).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import platform
import random
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime
from importlib import import_module
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORDS = ("kutubxona", "tarix", "oʻzbek", "adabiyot", "qoʻlyozma", "ilm", "fan", "toshkent", "samarqand",
         "navoiy", "библиотека", "история", "наука", "рукопись", "каталог", "ўзбекистон", "китоб", "мактаб", "shahar",
         "til")  # fmt: skip
QUERIES = {
    "one box": ["tarix", "ўзбекистон", "kutubxona", "история", "oʻzbek tili", "navoiy", "qodirov", "library",
                "библиотеки", "toshkent fan", "metadata", "alisher"],
    "fielded": ["title:tarix", "author:karimov", "subject:kutubxonashunoslik", "publisher:fan", "isbn:9789943000001",
                "journal:review", "udc:02", "bbk:78.3", "text:qoʻlyozma", "year:2000-2010 tarix"],
    "phrase": ['"oʻzbekiston tarixi"', '"история узбекистана"', '"metadata for digital"', '"toshkent shahri"'],
    "facets": ["tarix&type=book", "&lang=rus", "kutubxona&decade=2010", "&type=article&lang=eng", "&fulltext=yes"],
    "sorted": ["tarix&sort=year", "&sort=title", "история&sort=title"],
    "deep page": ["tarix&page=200", "&page=400&sort=year", "kutubxona&page=90"],
}  # fmt: skip


def settings(db_url: str, var: Path, search_url: str = "") -> dict:
    return {"DATABASE_URL": db_url, "VAR_DIR": str(var), "AUTO_MIGRATE": "yes", "IMPORT_CHUNK": 2000,
            "SEARCH_URL": search_url, "SEARCH_INDEX": "bench"}  # fmt: skip


def load(path: Path, conf: dict) -> float:
    """Import the records; the seconds it took."""
    from repository import create_app
    from repository.actions.importing import ImportOptions

    app = create_app(conf)
    started = time.perf_counter()
    report = app.extensions["kutubxona"].importer().import_file(path, ImportOptions())
    seconds = time.perf_counter() - started
    app.extensions["kutubxona"].close()
    print(f"  imported {report.counts['created']} records in {seconds:.1f} s")
    return seconds


def add_texts(conf: dict, count: int) -> None:
    """Give ``count`` records an open file of two pages of text (rows only: the bytes are not needed to search)."""
    from repository import create_app
    from repository.catalogue.models import FilePage, Record, RecordFile

    rng = random.Random(7)
    app = create_app(conf)
    services = app.extensions["kutubxona"]
    with services.db.transaction() as session:
        ids = session.query(Record.id).order_by(Record.id).limit(count * 7).all()
        now = datetime(2026, 1, 1)
        for n, (rid,) in enumerate(ids[::7][:count]):
            digest = hashlib.sha256(str(rid).encode()).hexdigest()
            row = RecordFile(record_id=rid, name="matn.pdf", object_key=digest, size=1, mime="application/pdf",
                             sha256=digest, md5=digest[:32], access="open", created=now, extraction="done",
                             method="pdftotext")  # fmt: skip
            session.add(row)
            session.flush()
            for page in (1, 2):
                text = " ".join(rng.choice(WORDS) for _ in range(300)) + f" sahifa{n}"
                session.add(FilePage(file_id=row.id, page=page, text=text))
    services.close()


def reindex(conf: dict) -> tuple[int, float]:
    from repository import create_app
    from repository.actions import searching

    app = create_app(conf)
    services = app.extensions["kutubxona"]
    started = time.perf_counter()
    result = searching.reindex(services, restart=True)
    seconds = time.perf_counter() - started
    services.close()
    return result["indexed"], seconds


def mixed(count: int) -> list[tuple[str, str]]:
    """``count`` (kind, query string) pairs, every kind in turn."""
    flat = [(kind, q) for kind, queries in QUERIES.items() for q in queries]
    return [flat[i % len(flat)] for i in range(count)]


def to_params(query: str) -> str:
    text, _, rest = query.partition("&")
    return urlencode({"q": text, "size": 20}) + ("&" + rest if rest else "")


def run_queries(port: int, queries: list[tuple[str, str]]) -> dict[str, list[float]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times: dict[str, list[float]] = {}
    for kind, query in queries:
        path = "/api/search?" + "&".join(p for p in to_params(query).split("&") if p)
        started = time.perf_counter()
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        elapsed = (time.perf_counter() - started) * 1000
        if resp.status != 200:
            raise RuntimeError(f"{path}: HTTP {resp.status} {body[:200]!r}")
        json.loads(body)
        times.setdefault(kind, []).append(elapsed)
    return times


def bare_fts(index: Path, queries: list[tuple[str, str]]) -> list[float]:
    """The same texts as bare FTS5 statements (first page by BM25 and the count), without facets or records."""
    from repository.search.embedded import to_fts
    from repository.search.query import parse

    conn = sqlite3.connect(index)
    out = []
    for _, query in queries:
        text = query.partition("&")[0]
        expression = to_fts(parse(text)) if text else None
        started = time.perf_counter()
        if expression:
            first = "SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT 20"
            conn.execute(first, (expression,)).fetchall()
            conn.execute("SELECT count(*) FROM docs WHERE docs MATCH ?", (expression,)).fetchone()
        else:
            conn.execute("SELECT rowid FROM facts LIMIT 20").fetchall()
        out.append((time.perf_counter() - started) * 1000)
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def measure(name: str, conf: dict, queries: list[tuple[str, str]], rows: list[dict]) -> None:
    indexed, seconds = reindex(conf)
    print(f"  {name}: reindexed {indexed} records in {seconds:.1f} s ({indexed / seconds:,.0f} docs/s)")
    oai = import_module("bench.oai")
    proc, port = oai.serve(conf["DATABASE_URL"], Path(conf["VAR_DIR"]), conf)
    try:
        run_queries(port, queries[:20])  # warm the caches and the workers' connections
        times = run_queries(port, queries)
        rss = oai.peak_rss_mb(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    every = [t for ts in times.values() for t in ts]
    rows.append({"backend": name, "docs_per_s": indexed / seconds, "times": times, "all": every, "rss": rss})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--texts", type=int, default=1_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--no-osmem", action="store_true")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    work = Path(tempfile.mkdtemp(prefix="kx-search-"))
    data = work / "records.mrc"
    import_module("bench.import").build(data, args.records, "utf-8")
    var = work / "var"
    conf = settings(f"sqlite:///{work / 'catalogue.sqlite3'}", var)
    import_seconds = load(data, conf)
    add_texts(conf, args.texts)
    queries = mixed(args.queries)
    rows: list[dict] = []
    measure("embedded", conf, queries, rows)
    bare = bare_fts(var / "search.sqlite3", queries)
    if not args.no_osmem:
        try:
            from osmem_server import OsmemServer
        except ImportError:
            print("  osmem-server not installed: no reference run")
        else:
            with OsmemServer.start(japanese=False) as server:
                measure("osmem (reference)", {**conf, "SEARCH_URL": server.url}, queries, rows)
    size_mb = (var / "search.sqlite3").stat().st_size / 1e6
    print(f"\n{args.records} records, {args.texts} with two pages of full text; {len(queries)} queries through "
          f"/api/search (kutubxona serve: gunicorn, 2 gthread workers) on one keep-alive connection")  # fmt: skip
    print(f"import: {args.records / import_seconds:,.0f} records/s (the baseline indexing is compared with)")
    print(f"embedded index file: {size_mb:.0f} MB")
    print(f"{'backend':18} {'docs/s':>8} {'kind':10} {'n':>4} {'p50 ms':>8} {'p95 ms':>8}")
    for row in rows:
        for kind, ts in [*row["times"].items(), ("all", row["all"])]:
            print(f"{row['backend']:18} {row['docs_per_s']:8,.0f} {kind:10} {len(ts):4} {statistics.median(ts):8.1f} "
                  f"{pct(ts, 0.95):8.1f}")  # fmt: skip
        print(f"{row['backend']:18} peak RSS of the server processes: {row['rss']:.0f} MB")
    print(f"{'bare FTS5':18} {'':>8} {'all':10} {len(bare):4} {statistics.median(bare):8.1f} {pct(bare, 0.95):8.1f}")
    print(f"\nrerun: .venv/bin/python bench/search.py --records {args.records} --texts {args.texts} "
          f"--queries {args.queries}")  # fmt: skip


if __name__ == "__main__":
    main()
