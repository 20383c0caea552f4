"""Harvest benchmark: one local Kutubxona harvesting another, end to end.

    .venv/bin/python bench/harvest.py [--records 100000]

Loads ``--records`` varied records into a source instance (SQLite), serves it with gunicorn
(2 workers) on a loopback port, and harvests it into a fresh target instance (SQLite) with
``kutubxona harvest`` (oai_dc, then marc21 into another target): records/s end to end, and how the
time splits between waiting for the server (HTTP) and the client's own work (parsing the pages,
converting and storing the records).
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import sys
import tempfile
import time
from importlib import import_module
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def timed_client():  # noqa: ANN201
    """A harvest client that adds up the time spent waiting for the server (request and body)."""
    from harvest.client import Client

    class TimedClient(Client):
        waiting = 0.0

        def _send(self, request_args):  # noqa: ANN001, ANN202
            start = time.perf_counter()
            try:
                return super()._send(request_args)  # the body is read inside, so inside the wait
            finally:
                TimedClient.waiting += time.perf_counter() - start

    return TimedClient


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    bench_import, bench_oai = import_module("bench.import"), import_module("bench.oai")
    from repository import config
    from repository.actions import harvesting
    from repository.services import open_services

    work = Path(tempfile.mkdtemp(prefix="kx-harvest-"))
    data = work / "records.mrc"
    bench_import.build(data, args.records, "utf-8")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    source_url = f"sqlite:///{work / 'source.sqlite3'}"
    bench_oai.load(data, source_url, work / "source-var")
    time.sleep(3)
    proc, port = bench_oai.serve(source_url, work / "source-var")
    rows = []
    TimedClient = timed_client()  # noqa: N806
    try:
        for prefix in ("oai_dc", "marc21"):
            services = open_services(
                config.load(
                    {
                        "DATABASE_URL": f"sqlite:///{work / f'target-{prefix}.sqlite3'}",
                        "VAR_DIR": str(work / f"target-{prefix}"),
                        "AUTO_MIGRATE": "yes",
                        "HARVEST_ALLOW_PRIVATE": "127.0.0.1",  # the source is served on loopback
                    }
                )
            )
            harvesting.add_source(services, "src", f"http://127.0.0.1:{port}/oai", prefix, [])
            TimedClient.waiting = 0.0
            start = time.perf_counter()
            report = harvesting.run(services, "src", client_factory=TimedClient)
            waited = TimedClient.waiting
            seconds = time.perf_counter() - start
            if report.error:
                raise SystemExit(report.error)
            rows.append((prefix, report.records, seconds, waited))
            print(f"  {prefix}: {report.records} records in {seconds:.1f} s")
            services.db.dispose()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    print("\nsource: gunicorn 2 sync workers, page size 100, SQLite; target: SQLite; all on the same 2 cores")
    print(f"{'format':8} {'records':>8} {'records/s':>10} {'server (HTTP wait)':>19} {'client':>8}")
    for prefix, n, seconds, wait in rows:
        print(f"{prefix:8} {n:8} {n / seconds:10,.0f} {wait / seconds:18.0%} {(seconds - wait) / seconds:8.0%}")
    print(f"\nrerun: .venv/bin/python bench/harvest.py --records {args.records}")


if __name__ == "__main__":
    main()
