"""Background jobs benchmark: what small steps cost an import, next to the same import run directly.

    .venv/bin/python bench/jobs.py [--records 100000] [--steps 10 2]

Builds ``--records`` LoC-like records (the import benchmark's generator), then imports the file
into a fresh SQLite catalogue three ways, each its own process, in turn: directly
(``Importer.import_file``, the baseline of the same run), as a background job run to its end by one
worker (as ``kutubxona worker`` does), and as a job handed back after each ``--steps`` seconds of
work, a step per claim, as Celery tasks take it (the broker itself is left out: its round trip is
the same for every step and small beside one).  Each step after the first reads the original
again from the object store and passes over the records its batch has stored.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from importlib import import_module
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def child(path: str, work: str, how: str) -> dict:
    """In a fresh process: import ``path`` ``how`` (direct, job, or the seconds of a step); seconds and figures."""
    from repository import create_app
    from repository.actions.importing import ImportOptions
    from repository.jobs import queue
    from repository.jobs.worker import Worker

    conf = {"DATABASE_URL": f"sqlite:///{work}/catalogue.sqlite3", "VAR_DIR": f"{work}/var", "AUTO_MIGRATE": "yes",
            "SEARCH_URL": ""}  # fmt: skip
    services = create_app(conf).extensions["kutubxona"]
    with open(path, "rb") as fh:
        key = services.store.put(fh).key
    started = time.perf_counter()
    steps = 1
    if how == "direct":
        created = services.importer().import_file(Path(path), ImportOptions()).counts["created"]
    else:
        job_id = queue.enqueue(services.db, "import", {"object": key, "name": "records.mrc", "options": {}}, "bench")
        worker = Worker(services, name="bench", step_seconds=None if how == "job" else float(how))
        while worker.run_job(job_id) == "stepped":
            steps += 1
        done = queue.get(services.db, job_id)
        assert done.state == "done", done.error
        created = json.loads(done.result)["created"]
    seconds = time.perf_counter() - started
    services.close()
    return {"seconds": seconds, "steps": steps, "created": created}


def run(path: Path, how: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="kx-jobs-") as work:
        out = subprocess.run([sys.executable, __file__, "--child", str(path), work, how],
                             capture_output=True, text=True, check=True)  # fmt: skip
        return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--steps", type=float, nargs="+", default=[10.0, 2.0], help="seconds of a step")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory(prefix="kx-jobs-data-") as folder:
        data = Path(folder) / "records.mrc"
        import_module("bench.import").build(data, args.records, "utf-8")
        ways = ["direct", "job", *(f"{s:g}" for s in args.steps)]
        results = {how: run(data, how) for how in ways}
    base = results["direct"]["seconds"]
    print(f"{args.records} records, SQLite, each way in its own process")
    print(f"{'way':32} {'steps':>6} {'seconds':>8} {'records/s':>10} {'vs direct':>9}")
    for how, r in results.items():
        label = {"direct": "direct import (baseline)", "job": "job, one worker to its end"}.get(how)
        label = label or f"job, handed back every {how} s"
        assert r["created"] == args.records, r
        rate = args.records / r["seconds"]
        print(f"{label:32} {r['steps']:>6} {r['seconds']:>8.1f} {rate:>10,.0f} {r['seconds'] / base:>8.2f}×")
    steps = " ".join(f"{s:g}" for s in args.steps)
    print(f"\nrerun: .venv/bin/python bench/jobs.py --records {args.records} --steps {steps}")


if __name__ == "__main__":
    main()
