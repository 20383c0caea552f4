"""Site benchmark: the time of each page kind of the researcher's site at 100,000 records.

    .venv/bin/python bench/site.py [--records 100000] [--texts 1000] [--rounds 30] [--keep DIR]

Builds the search benchmark's catalogue (LoC-like records imported into SQLite, ``--texts`` with two
pages of text, the embedded index rebuilt), serves it with ``kutubxona serve`` and requests each
page kind ``--rounds`` times on one keep-alive connection, in the four interface languages in turn:
home, search results (one box, a facet, sorted, a deep page), record pages of random records, a
record's citation and QR code, a result page's citations, a sitemap of 10,000 addresses and the
OpenSearch description.  It reports p50, p95 and the worst time of each (and how many records each
search finds): the issue's goal is no page above 200 ms.  The times are measured by the client on
loopback, so they include HTTP.  As a baseline from the same run, ``/api/search`` for the same
queries (the search alone, without the page).
With ``--keep DIR`` the catalogue is built in DIR once and reused by later runs.
"""

from __future__ import annotations

import argparse
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
from importlib import import_module
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
LANGS = ("uz_Latn", "uz_Cyrl", "ru", "en")
SEARCHES = {
    "search: one box": "/search?q=tarix",
    "search: facet": "/search?q=kutubxona&type=book&decade=2010",
    "search: sorted": "/search?q=toshkent&sort=title",
    "search: deep page": "/search?q=tarix&page=200",
}


def build(work: Path, records: int, texts: int) -> dict:
    """The search benchmark's catalogue in ``work`` (reused when it is already there)."""
    search = import_module("bench.search")
    conf = search.settings(f"sqlite:///{work / 'catalogue.sqlite3'}", work / "var")
    if (work / "built").exists():
        print(f"  reusing the catalogue in {work}")
        return conf
    data = work / "records.mrc"
    import_module("bench.import").build(data, records, "utf-8")
    search.load(data, conf)
    search.add_texts(conf, texts)
    indexed, seconds = search.reindex(conf)
    print(f"  indexed {indexed} records in {seconds:.1f} s")
    (work / "built").touch()
    return conf


def paths(conf: dict, rounds: int) -> dict[str, list[str]]:
    """The addresses each page kind is measured on, ``rounds`` of each."""
    db = sqlite3.connect(conf["DATABASE_URL"].removeprefix("sqlite:///"))
    ids = [r[0] for r in db.execute("SELECT local_id FROM record WHERE NOT deleted ORDER BY random() LIMIT ?",
                                    (rounds,))]  # fmt: skip
    texts = "SELECT DISTINCT r.local_id FROM record r JOIN record_file f ON f.record_id = r.id LIMIT ?"
    with_text = [r[0] for r in db.execute(texts, (rounds,))]
    db.close()
    rng = random.Random(3)
    out = {
        "home": ["/"] * rounds,
        **{kind: [path] * rounds for kind, path in SEARCHES.items()},
        "record": [f"/records/{i}" for i in ids],
        "record with full text": [f"/records/{i}" for i in with_text],
        "citation (RIS)": [f"/records/{rng.choice(ids)}/cite.ris" for _ in range(rounds)],
        "QR code": [f"/records/{rng.choice(ids)}/qr.svg" for _ in range(rounds)],
        "result page citations (BibTeX)": ["/search/cite.bib?q=tarix"] * rounds,
        "sitemap (10,000 addresses)": ["/sitemap-1.xml"] * max(3, rounds // 10),
        "OpenSearch description": ["/opensearch.xml"] * rounds,
        "baseline: /api/search": [p.replace("/search?", "/api/search?") for p in SEARCHES.values()] * (rounds // 4),
    }
    return out


def measure(port: int, kinds: dict[str, list[str]]) -> dict[str, list[float]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    times: dict[str, list[float]] = {}
    for kind, addresses in kinds.items():
        for n, path in enumerate(addresses):
            if not path.startswith("/api/"):  # (on the API ?lang= is the language facet)
                path += ("&" if "?" in path else "?") + f"lang={LANGS[n % len(LANGS)]}"
            started = time.perf_counter()
            conn.request("GET", path)
            resp = conn.getresponse()
            body = resp.read()
            elapsed = (time.perf_counter() - started) * 1000
            if resp.status != 200:
                raise RuntimeError(f"{path}: HTTP {resp.status} {body[:200]!r}")
            times.setdefault(kind, []).append(elapsed)
    return times


def hits(port: int) -> dict[str, int]:
    """How many records each search page kind finds, as ``/api/search`` counts them."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    out = {}
    for kind, path in SEARCHES.items():
        conn.request("GET", path.replace("/search?", "/api/search?") + "&size=1")
        out[kind] = json.loads(conn.getresponse().read())["total"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--texts", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--keep", type=Path, help="build the catalogue here once, and reuse it")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    work = args.keep or Path(tempfile.mkdtemp(prefix="kx-site-"))
    work.mkdir(parents=True, exist_ok=True)
    conf = build(work, args.records, args.texts)
    kinds = paths(conf, args.rounds)
    oai = import_module("bench.oai")
    proc, port = oai.serve(conf["DATABASE_URL"], Path(conf["VAR_DIR"]), conf)
    try:
        measure(port, {k: v[:3] for k, v in kinds.items()})  # warm: catalogues, connections, caches
        times = measure(port, kinds)
        rss = oai.peak_rss_mb(proc.pid)
        found = hits(port)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    print(f"\n{args.records} records; each page kind {args.rounds} times in four languages, one keep-alive connection")
    print(f"{'page':34} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'hits':>8}")
    for kind, ts in times.items():
        ordered = sorted(ts)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        flag = "  over 200 ms" if ordered[-1] > 200 and not kind.startswith("baseline") else ""
        found_here = f"{found[kind]:8,}" if kind in found else " " * 8
        print(f"{kind:34} {len(ts):4} {statistics.median(ts):8.1f} {p95:8.1f} {ordered[-1]:8.1f} {found_here}{flag}")
    print(f"peak RSS of the server processes: {rss:.0f} MB")
    keep = f" --keep {work}" if args.keep else ""
    print(f"\nrerun: .venv/bin/python bench/site.py --records {args.records} --texts {args.texts} "
          f"--rounds {args.rounds}{keep}")  # fmt: skip


if __name__ == "__main__":
    main()
