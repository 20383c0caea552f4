"""OAI-PMH benchmark: full harvests from ``kutubxona serve`` on SQLite and PostgreSQL.

    .venv/bin/python bench/oai.py [--records 100000] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test]

Loads ``--records`` varied records (the import benchmark's generator) into a fresh database, serves
it with ``kutubxona serve`` (gunicorn, 2 gthread workers) on a loopback port and, with a client that
harvests as a harvester does (keep-alive HTTP, every page parsed with lxml, every identifier checked
to arrive exactly once), measures records/s of whole harvests (ListRecords oai_dc and marc21,
ListIdentifiers oai_dc), the latency of page 1 against page 900 (each fetched 5 times with the same
token), and the peak RSS of the server processes.  The PostgreSQL database given is emptied.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import import_module
from pathlib import Path
from urllib.parse import quote

from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
NS = {"o": "http://www.openarchives.org/OAI/2.0/"}


def load(path: Path, db_url: str, var: Path) -> None:
    """Import the benchmark file into a fresh database."""
    from repository import create_app
    from repository.actions.importing import ImportOptions

    app = create_app({"DATABASE_URL": db_url, "VAR_DIR": str(var), "AUTO_MIGRATE": "yes", "IMPORT_CHUNK": 2000})
    report = app.extensions["kutubxona"].importer().import_file(path, ImportOptions())
    app.extensions["kutubxona"].db.dispose()
    print(f"  loaded {report.counts['created']} records")


class Client:
    """Keep-alive GETs of /oai."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def get(self, query: str) -> bytes:
        self.conn.request("GET", "/oai?" + query)
        resp = self.conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"HTTP {resp.status}: {body[:200]!r}")
        return body


def harvest(client: Client, verb: str, prefix: str) -> tuple[int, float, list[str]]:
    """Follow every token as a harvester does, parsing each page with lxml; every record must come once.

    Returns items, seconds, and the token of each page (for the latency test).
    """
    start = time.perf_counter()
    body = client.get(f"verb={verb}&metadataPrefix={prefix}")
    seen: set[str] = set()
    tokens = []
    while True:
        root = etree.fromstring(body)
        identifiers = root.xpath("//o:header/o:identifier/text()", namespaces=NS)
        if seen.intersection(identifiers) or len(set(identifiers)) != len(identifiers):
            raise RuntimeError(f"{verb} {prefix}: a record came twice")
        seen.update(identifiers)
        token = root.xpath("//o:resumptionToken/text()", namespaces=NS)
        if not token or not token[0].strip():
            return len(seen), time.perf_counter() - start, tokens
        tokens.append(token[0])
        body = client.get(f"verb={verb}&resumptionToken={quote(token[0], safe='')}")


def latency(client: Client, query: str, repeat: int = 5) -> float:
    """Median milliseconds of one request."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        client.get(query)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def peak_rss_mb(pid: int) -> float:
    """Sum of VmHWM (peak resident set) of a process and its children."""
    pids = [pid] + [int(p) for p in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
                    .stdout.split()]  # fmt: skip
    total = 0
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1])
    return total / 1024


def serve(db_url: str, var: Path, settings: dict | None = None) -> tuple[subprocess.Popen, int]:
    """Serve the way ``kutubxona serve`` does (it is that command: gunicorn, 2 gthread workers of 8 threads)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "KUTUBXONA_DATABASE_URL": db_url, "KUTUBXONA_VAR_DIR": str(var),
           "KUTUBXONA_AUTO_MIGRATE": "no", "KUTUBXONA_OAI_MAX_CONCURRENT": "16",
           **{f"KUTUBXONA_{k}": str(v) for k, v in (settings or {}).items()}}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "repository.cli", "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
    )  # fmt: skip
    for _ in range(150):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--pg", default=os.environ.get("KUTUBXONA_TEST_DATABASE_URL", ""))
    args = parser.parse_args()
    bench_import = import_module("bench.import")
    work = Path(tempfile.mkdtemp(prefix="kx-oai-"))
    data = work / "records.mrc"
    bench_import.build(data, args.records, "utf-8")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    targets = [("SQLite", f"sqlite:///{work / 'oai.sqlite3'}")]
    if args.pg:
        targets.append(("PostgreSQL", args.pg))
    rows = []
    for name, url in targets:
        print(f"{name}:")
        if name == "PostgreSQL":
            bench_import.reset_pg(url)
        var = work / f"var-{name}"
        load(data, url, var)
        proc, port = serve(url, var)
        try:
            client = Client(port)
            page_size = client.get("verb=ListIdentifiers&metadataPrefix=oai_dc").count(b"<header>")
            for verb, prefix in (("ListRecords", "oai_dc"), ("ListRecords", "marc21"), ("ListIdentifiers", "oai_dc")):
                items, seconds, tokens = harvest(client, verb, prefix)
                if prefix == "oai_dc" and items != args.records:
                    raise SystemExit(f"{verb} {prefix}: {items} records of {args.records}")
                row = {"db": name, "what": f"{verb} {prefix}", "items": items, "rate": items / seconds}
                if verb == "ListRecords" and prefix == "oai_dc" and len(tokens) > 900:
                    row["page1"] = latency(client, f"verb={verb}&metadataPrefix={prefix}")
                    row["page900"] = latency(client, f"verb={verb}&resumptionToken={quote(tokens[898], safe='')}")
                rows.append(row)
                print(f"  {verb} {prefix}: {items} items in {seconds:.1f} s")
            rows[-1]["rss"] = peak_rss_mb(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    print(
        f"\npage size {page_size}; kutubxona serve (gunicorn, 2 gthread workers); client parsing every page "
        "with lxml on the same 2 cores"
    )
    print(f"{'db':11} {'harvest':24} {'items':>8} {'items/s':>9} {'page 1 ms':>10} {'page 900 ms':>12} {'RSS MB':>7}")
    for r in rows:
        p1 = f"{r['page1']:.1f}" if "page1" in r else ""
        p900 = f"{r['page900']:.1f}" if "page900" in r else ""
        rss = f"{r['rss']:.0f}" if "rss" in r else ""
        print(f"{r['db']:11} {r['what']:24} {r['items']:8} {r['rate']:9,.0f} {p1:>10} {p900:>12} {rss:>7}")
    print(f"\nrerun: .venv/bin/python bench/oai.py --records {args.records}" + (" --pg URL" if args.pg else ""))


if __name__ == "__main__":
    main()
