"""Scale benchmark: a million records on PostgreSQL, from the file to the harvest and the search.

    .venv/bin/python bench/scale.py [--records 1000000] [--pg URL] [--queries 200]

Generates ``--records`` LoC-like records (the import benchmark's generator), then on a freshly
emptied PostgreSQL (``--pg``, default ``KUTUBXONA_TEST_DATABASE_URL``; its schema is dropped):
imports them (2 worker processes, as shipped), rebuilds the embedded search index, serves with
``kutubxona serve`` and harvests everything with ListRecords (oai_dc, every page parsed, no record
twice), runs ``--queries`` mixed searches through ``/api/search``, and reports each step's time,
the database and index sizes, and the peak memory of each process (import and reindex: the
process and its workers; the server: all its processes).  Each step runs in a process of its
own.  As a baseline from the same run, pymarc reads the same file (parsing only).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import import_module
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _peak_mb() -> float:
    """Peak resident memory of this process and, separately counted, its largest child."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + children) / 1024


def step_import(path: str, conf: str) -> dict:
    from repository import create_app
    from repository.actions.importing import ImportOptions

    app = create_app(json.loads(conf))
    services = app.extensions["kutubxona"]
    started = time.perf_counter()
    report = services.importer().import_file(Path(path), ImportOptions())
    seconds = time.perf_counter() - started
    services.close()
    return {"created": report.counts["created"], "rejected": report.counts["rejected"], "seconds": seconds,
            "peak_mb": _peak_mb()}  # fmt: skip


def step_reindex(conf: str) -> dict:
    from repository import create_app
    from repository.actions import searching

    app = create_app(json.loads(conf))
    services = app.extensions["kutubxona"]
    started = time.perf_counter()
    result = searching.reindex(services, restart=True)
    seconds = time.perf_counter() - started
    services.close()
    return {"indexed": result["indexed"], "seconds": seconds, "peak_mb": _peak_mb()}


def step_pymarc(path: str) -> dict:
    result = import_module("bench.import").child_pymarc(path)
    return {**result, "peak_mb": _peak_mb()}


def step_size(conf: str) -> dict:
    from sqlalchemy import create_engine, text

    engine = create_engine(json.loads(conf)["DATABASE_URL"])
    with engine.connect() as conn:
        size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar()
    engine.dispose()
    return {"database_mb": size / 1e6}


STEPS = {"import": step_import, "reindex": step_reindex, "pymarc": step_pymarc, "size": step_size}


def run_step(name: str, *args: str) -> dict:
    """A step in a process of its own; its JSON answer."""
    done = subprocess.run([sys.executable, __file__, "_step", name, *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{name} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--pg", default=os.environ.get("KUTUBXONA_TEST_DATABASE_URL", ""))
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    if not args.pg:
        sys.exit("give --pg postgresql+psycopg://... (or set KUTUBXONA_TEST_DATABASE_URL); its schema is emptied")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    bench_import, oai, search = import_module("bench.import"), import_module("bench.oai"), import_module("bench.search")
    work = Path(tempfile.mkdtemp(prefix="kx-scale-"))
    data = work / "records.mrc"
    started = time.perf_counter()
    bench_import.build(data, args.records, "utf-8")
    print(f"  generated {args.records:,} records ({data.stat().st_size / 1e6:,.0f} MB) in "
          f"{time.perf_counter() - started:.0f} s")  # fmt: skip
    conf = search.settings(args.pg, work / "var")
    conf["IMPORT_WORKERS"] = 2
    bench_import.reset_pg(args.pg)
    rows = {"pymarc": run_step("pymarc", str(data))}
    print(f"  pymarc read the file in {rows['pymarc']['seconds']:.0f} s")
    rows["import"] = run_step("import", str(data), json.dumps(conf))
    print(f"  imported {rows['import']['created']:,} in {rows['import']['seconds']:.0f} s")
    rows["reindex"] = run_step("reindex", json.dumps(conf))
    print(f"  indexed {rows['reindex']['indexed']:,} in {rows['reindex']['seconds']:.0f} s")
    rows["size"] = run_step("size", json.dumps(conf))
    proc, port = oai.serve(args.pg, work / "var", conf)
    try:
        harvested, seconds, _ = oai.harvest(oai.Client(port), "ListRecords", "oai_dc")
        rows["harvest"] = {"records": harvested, "seconds": seconds}
        print(f"  harvested {harvested:,} in {seconds:.0f} s")
        times = search.run_queries(port, search.mixed(args.queries))
        flat = [t for ts in times.values() for t in ts]
        rows["search"] = {"n": len(flat), "p50": statistics.median(flat), "p95": search.pct(flat, 0.95)}
        rows["server_peak_mb"] = oai.peak_rss_mb(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    index_mb = (work / "var" / "search.sqlite3").stat().st_size / 1e6
    n = args.records
    print(f"\n{n:,} records on PostgreSQL ({args.pg.rsplit('@', 1)[-1]}), embedded search index")
    print(f"{'step':34} {'seconds':>8} {'per second':>11} {'peak MB':>8}")
    table = [
        ("baseline: pymarc reads the file", rows["pymarc"]["seconds"], n, rows["pymarc"]["peak_mb"]),
        ("import (2 workers)", rows["import"]["seconds"], n, rows["import"]["peak_mb"]),
        ("reindex (embedded)", rows["reindex"]["seconds"], rows["reindex"]["indexed"], rows["reindex"]["peak_mb"]),
        ("full harvest, ListRecords oai_dc", rows["harvest"]["seconds"], rows["harvest"]["records"],
         rows["server_peak_mb"]),
    ]  # fmt: skip
    for label, seconds, count, peak in table:
        print(f"{label:34} {seconds:8.0f} {count / seconds:11,.0f} {peak:8.0f}")
    print(f"search through /api/search: {rows['search']['n']} queries, p50 {rows['search']['p50']:.0f} ms, "
          f"p95 {rows['search']['p95']:.0f} ms")  # fmt: skip
    print(f"database {rows['size']['database_mb']:,.0f} MB; search index {index_mb:,.0f} MB; "
          f"rejected records {rows['import']['rejected']}")  # fmt: skip
    print(f"\nrerun: .venv/bin/python bench/scale.py --records {n} --queries {args.queries} --pg URL")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "_step":
        print(json.dumps(STEPS[sys.argv[2]](*sys.argv[3:])))
    else:
        main()
