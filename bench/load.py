"""Load benchmark: many harvesters and searchers at once against `kutubxona serve`, on loopback.

    .venv/bin/python bench/load.py [--records 100000] [--harvesters 50] [--searchers 20] [--seconds 300] [--keep DIR]

Serves the search benchmark's catalogue (built once with ``--keep DIR``, as bench/site.py does)
with ``kutubxona serve`` as shipped: 2 gthread workers of 8 threads, load shedding after 500 ms in
the queue, at most 4 OAI-PMH list requests at once per worker.  Then ``--harvesters`` threads each
harvest ListRecords (oai_dc) from the start, following resumption tokens, and ``--searchers``
threads search the site and the JSON API, for ``--seconds``.  Every client honours a 503's
``Retry-After`` (it waits, then asks again for the same thing) as a well-behaved harvester does.

It reports the answers by status, whether every 503 carried ``Retry-After``, token errors and
other 5xx (the goal: none), and the p50/p95/p99 latency of the requests that were served, next to
the same kinds of request made one at a time before the load (the baseline of the same run).
The clients run on the same two cores as the server, so the figures are the server's under a
shared CPU, not a separate load generator's.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import random
import re
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from importlib import import_module
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SEARCHES = [
    "/search?q=tarix", "/search?q=kutubxona&type=book", "/api/search?q=" + quote("история"),
    "/search?q=toshkent&sort=year", "/api/search?q=navoiy&page=5", "/search?q=" + quote("oʻzbek tili"),
    "/api/search?q=title:tarix", "/search?q=&lang=ru",
]  # fmt: skip
_TOKEN = re.compile(rb"<resumptionToken[^>]*>([^<]+)</resumptionToken>")
_ERROR = re.compile(rb'<error code="([A-Za-z]+)"')


class Tally:
    """What the clients saw, shared by their threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.status: Counter[tuple[str, int]] = Counter()
        self.served: dict[str, list[float]] = {"harvest": [], "search": []}
        self.no_retry_after = 0
        self.token_errors: list[str] = []
        self.records = 0
        self.harvests_done = 0
        self.failures: list[str] = []

    def add(self, kind: str, status: int, ms: float, retry_after: str | None) -> None:
        with self.lock:
            self.status[(kind, status)] += 1
            if status == 200:
                self.served[kind].append(ms)
            elif status == 503 and not retry_after:
                self.no_retry_after += 1


def ask(conn: http.client.HTTPConnection, path: str) -> tuple[int, bytes, str | None, float]:
    started = time.perf_counter()
    conn.request("GET", path, headers={"Accept-Encoding": "identity"})
    resp = conn.getresponse()
    body = resp.read()
    return resp.status, body, resp.getheader("Retry-After"), (time.perf_counter() - started) * 1000


def client(port: int, kind: str, until: float, tally: Tally, work) -> None:  # noqa: ANN001
    """One client: ``work(get)`` asks, and ``get`` waits out 503s as Retry-After says."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def get(path: str) -> bytes | None:
        while time.monotonic() < until:
            try:
                status, body, retry_after, ms = ask(conn, path)
            except (OSError, http.client.HTTPException) as exc:
                tally.failures.append(f"{kind}: {type(exc).__name__}: {exc}")
                conn.close()
                time.sleep(1)
                continue
            tally.add(kind, status, ms, retry_after)
            if status == 503:
                conn.close()  # the server closed it; a new one for the next try
                time.sleep(min(float(retry_after or 5), max(0.0, until - time.monotonic())))
                continue
            return body if status == 200 else None
        return None

    try:
        work(get)
    except Exception as exc:  # noqa: BLE001 - a benchmark reports, it does not stop
        tally.failures.append(f"{kind}: {type(exc).__name__}: {exc}")


def harvester(tally: Tally, until: float):  # noqa: ANN201
    def work(get) -> None:  # noqa: ANN001
        while time.monotonic() < until:
            path = "/oai?verb=ListRecords&metadataPrefix=oai_dc"
            while time.monotonic() < until:
                body = get(path)
                if body is None:
                    break
                error = _ERROR.search(body)
                if error:
                    tally.token_errors.append(error.group(1).decode())
                    break
                with tally.lock:
                    tally.records += body.count(b"<record>")
                token = _TOKEN.search(body, max(0, len(body) - 2048))
                if not token:
                    with tally.lock:
                        tally.harvests_done += 1
                    break
                path = "/oai?verb=ListRecords&resumptionToken=" + token.group(1).decode()

    return work


def searcher(seed: int, until: float):  # noqa: ANN201
    rng = random.Random(seed)

    def work(get) -> None:  # noqa: ANN001
        while time.monotonic() < until:
            get(rng.choice(SEARCHES))

    return work


def baseline(port: int, rounds: int = 20) -> dict[str, list[float]]:
    """The same kinds of request, one at a time, before the load."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    out: dict[str, list[float]] = {"harvest": [], "search": []}
    path = "/oai?verb=ListRecords&metadataPrefix=oai_dc"
    for _ in range(rounds):
        status, body, _, ms = ask(conn, path)
        out["harvest"].append(ms)
        token = _TOKEN.search(body)
        path = "/oai?verb=ListRecords&resumptionToken=" + token.group(1).decode() if token else path
    for n in range(rounds):
        out["search"].append(ask(conn, SEARCHES[n % len(SEARCHES)])[3])
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--texts", type=int, default=1_000)
    parser.add_argument("--harvesters", type=int, default=50)
    parser.add_argument("--searchers", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=300)
    parser.add_argument("--keep", type=Path, help="build the catalogue here once, and reuse it")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    work = args.keep or Path(tempfile.mkdtemp(prefix="kx-load-"))
    work.mkdir(parents=True, exist_ok=True)
    conf = import_module("bench.site").build(work, args.records, args.texts)
    oai = import_module("bench.oai")
    # as shipped: the defaults of OAI_MAX_CONCURRENT and SHED_AFTER_MS
    proc, port = oai.serve(conf["DATABASE_URL"], Path(conf["VAR_DIR"]), {**conf, "OAI_MAX_CONCURRENT": 4})
    tally = Tally()
    try:
        baseline(port, 3)  # warm
        alone = baseline(port)
        until = time.monotonic() + args.seconds
        threads = [threading.Thread(target=client, args=(port, "harvest", until, tally, harvester(tally, until)))
                   for _ in range(args.harvesters)]  # fmt: skip
        threads += [threading.Thread(target=client, args=(port, "search", until, tally, searcher(n, until)))
                    for n in range(args.searchers)]  # fmt: skip
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        rss = oai.peak_rss_mb(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    print(f"\n{args.records} records; {args.harvesters} harvesters and {args.searchers} searchers for "
          f"{args.seconds} s against kutubxona serve (2 workers x 8 threads)")  # fmt: skip
    for (kind, status), n in sorted(tally.status.items()):
        print(f"  {kind:8} HTTP {status}: {n:,}")
    other_5xx = sum(n for (_, status), n in tally.status.items() if status >= 500 and status != 503)
    print(
        f"  503 without Retry-After: {tally.no_retry_after}; other 5xx: {other_5xx}; "
        f"OAI errors (token or other): {len(tally.token_errors)} {Counter(tally.token_errors).most_common(3)}"
    )
    print(f"  connection failures: {len(tally.failures)} {tally.failures[:3]}")
    print(f"  records harvested: {tally.records:,}; full harvests finished: {tally.harvests_done}")
    print(f"\n{'served requests':24} {'n':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for kind in ("harvest", "search"):
        for label, values in ((f"{kind}, alone", alone[kind]), (f"{kind}, under load", tally.served[kind])):
            print(f"{label:24} {len(values):7} {statistics.median(values) if values else float('nan'):8.1f} "
                  f"{percentile(values, 0.95):8.1f} {percentile(values, 0.99):8.1f}")  # fmt: skip
    print(f"peak RSS of the server processes: {rss:.0f} MB")
    keep = f" --keep {work}" if args.keep else ""
    print(f"\nrerun: .venv/bin/python bench/load.py --records {args.records} --harvesters {args.harvesters} "
          f"--searchers {args.searchers} --seconds {args.seconds}{keep}")  # fmt: skip


if __name__ == "__main__":
    main()
