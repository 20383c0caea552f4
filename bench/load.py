"""Load benchmark: many harvesters and searchers at once against `kutubxona serve`, on loopback.

    .venv/bin/python bench/load.py [--records 100000] [--harvesters 50] [--searchers 20] [--slow 0]
                                   [--seconds 300] [--keep DIR]

Serves the search benchmark's catalogue (built once with ``--keep DIR``, as bench/site.py does)
with ``kutubxona serve`` as shipped: 2 gthread workers of 8 threads, load shedding after 500 ms in
the queue, at most 4 OAI-PMH list requests at once per worker.  Then ``--harvesters`` threads each
harvest ListRecords (oai_dc) from the start, following resumption tokens, and ``--searchers``
threads search the site and the JSON API, for ``--seconds``.  Every client honours a 503's
``Retry-After`` (it waits, then asks again for the same thing) as a well-behaved harvester does.
``--slow`` more threads are slow clients, each again and again: a POST whose announced body never
comes, a request head that stops before its end, or a head sent a byte a second; each waits until
the server closes its connection (``KUTUBXONA_REQUEST_READ_SECONDS``, 10 s, then 408), and opens
another.

It reports the answers by status, whether every 503 carried ``Retry-After``, token errors and
other 5xx (the goal: none), and the p50/p95/p99 latency of the requests that were served, next to
the same kinds of request made one at a time before the load (the baseline of the same run); and
what became of the slow clients' connections and how long the server let each be.
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
import selectors
import signal
import socket
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
# what slow clients send before they stop: a body that never comes, a head that never ends, a drip
_FORM = b"Content-Type: application/x-www-form-urlencoded\r\n"
STALLED_BODY = b"POST /oai HTTP/1.1\r\nHost: x\r\n" + _FORM + b"Content-Length: 13\r\n\r\nverb=Id"
STALLED_HEAD = b"GET /search?q=tarix HTTP/1.1\r\nHost: x\r\n"
DRIPPED = b"GET /oai?verb=ListRecords&metadataPrefix=oai_dc HTTP/1.1\r\nHost: x\r\nUser-Agent: a byte a second\r\n\r\n"


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
        self.slow: Counter[str] = Counter()  # what became of the slow clients' connections
        self.slow_held: list[float] = []  # seconds from opening to the server's close

    def add(self, kind: str, status: int, ms: float, retry_after: str | None) -> None:
        with self.lock:
            self.status[(kind, status)] += 1
            if status == 200:
                self.served[kind].append(ms)
            elif status == 503 and not retry_after:
                self.no_retry_after += 1

    def note_slow(self, outcome: str, held: float | None = None) -> None:
        with self.lock:
            self.slow[outcome] += 1
            if held is not None:
                self.slow_held.append(held)


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


def readable(sock: socket.socket, timeout: float) -> bool:
    """True when ``sock`` has something to read (or was closed) within ``timeout``: by poll or epoll, as
    select() refuses a descriptor past 1024 and the benchmark opens hundreds of connections."""
    with selectors.DefaultSelector() as waiting:
        waiting.register(sock, selectors.EVENT_READ)
        return bool(waiting.select(timeout))


def slow_client(port: int, n: int, until: float, tally: Tally) -> None:
    """One slow client: part of a request (kind by ``n``), then a wait for the server's close; again."""
    kind = ("stalled body", "stalled head", "dripped head")[n % 3]
    while time.monotonic() < until:
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        except OSError:
            tally.note_slow("could not connect")
            time.sleep(1)
            continue
        opened = time.monotonic()
        try:
            if kind == "dripped head":
                for byte in DRIPPED:
                    if time.monotonic() >= until or readable(sock, 1.0):
                        break  # the server has answered or closed (or the run is over)
                    sock.sendall(bytes([byte]))
            else:
                sock.sendall(STALLED_BODY if kind == "stalled body" else STALLED_HEAD)
            answer, closed = b"", False
            while not closed and (left := until - time.monotonic()) > 0:
                if readable(sock, left):
                    chunk = sock.recv(65536)
                    answer, closed = answer + chunk, not chunk
            if not closed:
                tally.note_slow("still open at the end")
            elif answer.startswith(b"HTTP/1.1 "):
                tally.note_slow("answered " + answer[9:12].decode(), time.monotonic() - opened)
            else:
                tally.note_slow("closed silently", time.monotonic() - opened)
        except OSError as exc:
            tally.note_slow(type(exc).__name__)
        finally:
            sock.close()


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
    parser.add_argument("--slow", type=int, default=0, help="slow clients (stalled bodies, stalled and dripped heads)")
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
        threads += [threading.Thread(target=slow_client, args=(port, n, until, tally)) for n in range(args.slow)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        rss = oai.peak_rss_mb(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    print(f"\n{args.records} records; {args.harvesters} harvesters, {args.searchers} searchers and {args.slow} slow "
          f"clients for {args.seconds} s against kutubxona serve (2 workers x 8 threads)")  # fmt: skip
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
    if args.slow:
        held = tally.slow_held
        print(
            f"slow clients' connections: {dict(tally.slow.most_common())}; held by the server p50 "
            f"{statistics.median(held) if held else float('nan'):.1f} s, max {max(held, default=float('nan')):.1f} s"
        )
    print(f"peak RSS of the server processes: {rss:.0f} MB")
    keep = f" --keep {work}" if args.keep else ""
    print(f"\nrerun: .venv/bin/python bench/load.py --records {args.records} --texts {args.texts} "
          f"--harvesters {args.harvesters} --searchers {args.searchers} --slow {args.slow} --seconds {args.seconds}"
          f"{keep}")  # fmt: skip


if __name__ == "__main__":
    main()
