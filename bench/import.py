"""Import benchmark: raw pymarc parsing next to our full import, on SQLite and PostgreSQL.

    .venv/bin/python bench/import.py [--records 100000] [--workers 2] [--pg postgresql+psycopg://...]

Builds a varied ISO 2709 file (books, theses, manuscripts, serials, articles, UNIMARC; Uzbek Latin
and Cyrillic, Russian, English) in UTF-8, a MARC-8 and a Windows-1251 variant (whose code page the
import decides from the whole file), then measures, each in a fresh
process: raw pymarc parsing (the baseline) and ``kutubxona import`` (parse, validate, match,
crosswalk, store), in one process and with ``--workers`` worker processes preparing records, and
for UTF-8 a second import of the same records with a tenth of them revised (the monthly reload).
Prints records/s, peak RSS of all processes and the size of the SQLite file; the PostgreSQL
database given is emptied.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def build(path: Path, count: int, encoding: str, revised_every: int = 0) -> None:
    """Write ``count`` varied records to ``path``; every ``revised_every``-th one revised (a note added)."""
    from repository.metadata import sample
    from repository.metadata.marc import DataField, to_iso2709

    langs = ("uzb", "uzb-cyrl", "rus", "eng")
    with open(path, "wb") as out:
        for i in range(count):
            lang = langs[i % 4]
            if encoding == "marc-8" and lang in ("uzb", "uzb-cyrl"):
                lang = "eng"  # Uzbek letters (ʻ, қ, ғ) have no MARC-8 form
            if encoding == "cp1251" and lang in ("uzb", "uzb-cyrl"):
                lang = "rus"  # nor in Windows-1251 (ʻ, қ, ғ, ҳ): a CIS export of Russian records
            shape = i % 20
            if shape < 14:
                rec = sample._marc21_book(i, lang, "book")
            elif shape < 15:
                rec = sample._marc21_book(i, lang, "thesis")
            elif shape < 16:
                rec = sample._marc21_book(i, {"marc-8": "eng", "cp1251": "rus"}.get(encoding, "uzb"), "manuscript")
            elif shape < 19 or encoding in ("marc-8", "cp1251"):
                rec = sample._marc21_article(i)
                if encoding in ("marc-8", "cp1251"):
                    rec = sample._marc21_book(i, "rus", "book")
            else:
                rec = sample._unimarc(i, "rus", "50")
            rec.fields[0] = rec.fields[0]._replace(data=f"B{i:07d}")  # unique 001 for every record
            if revised_every and i % revised_every == 0:
                rec.fields.append(DataField("500", " ", " ", (("a", "Qayta koʻrilgan nashr"),)))
            try:
                out.write(to_iso2709(rec, encoding))
            except UnicodeEncodeError:  # a name with a letter Windows-1251 lacks (Ç): a Russian book instead
                rec = sample._marc21_book(i, "rus", "book")
                rec.fields[0] = rec.fields[0]._replace(data=f"B{i:07d}")
                out.write(to_iso2709(rec, encoding))


class RssSampler(threading.Thread):
    """The peak of this process's resident memory plus its child processes', sampled every 50 ms.

    The children's own ``ru_maxrss`` would not do: Linux carries a process's peak across the
    fork and exec that start a worker, so each worker would seem as big as its parent.
    """

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_mb = 0.0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.05):
            pids = [os.getpid()]
            for task in Path("/proc/self/task").iterdir():
                pids += [int(p) for p in (task / "children").read_text().split()]
            self.peak_mb = max(self.peak_mb, sum(_rss_kb(pid) for pid in pids) / 1024)

    def stop(self) -> None:
        self._done.set()
        self.join()


def _rss_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0  # it has just exited
    return next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)


def child_pymarc(path: str) -> dict:
    import pymarc

    start = time.perf_counter()
    n = 0
    with open(path, "rb") as fh:
        for rec in pymarc.MARCReader(fh, to_unicode=True, hide_utf8_warnings=True):
            n += rec is not None
    return {"records": n, "seconds": time.perf_counter() - start}


def child_import(path: str, db_url: str, var: str, workers: str) -> dict:
    from repository import create_app
    from repository.actions.importing import ImportOptions

    app = create_app({"DATABASE_URL": db_url, "VAR_DIR": var, "AUTO_MIGRATE": "yes", "IMPORT_WORKERS": int(workers)})
    svc = app.extensions["kutubxona"]
    start = time.perf_counter()
    report = svc.importer().import_file(Path(path), ImportOptions())
    seconds = time.perf_counter() - start
    svc.db.dispose()
    database = Path(db_url.removeprefix("sqlite:///")) if db_url.startswith("sqlite:///") else None
    size = database.stat().st_size / 1e6 if database else None  # (PostgreSQL's is not the file's)
    return {**{k: report.counts[k] for k in ("records", "created", "updated", "unchanged")}, "seconds": seconds,
            "db_mb": size}  # fmt: skip


def run_child(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "_child", *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def reset_pg(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--pg", default=os.environ.get("KUTUBXONA_TEST_DATABASE_URL", ""))
    parser.add_argument("--workers", type=int, default=2, help="worker processes of the parallel runs")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kx-bench-"))
    print(
        f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    rows = []
    for encoding in ("utf-8", "marc-8", "cp1251"):
        path = work / f"{encoding}.mrc"
        build(path, args.records, encoding)
        revised = work / f"{encoding}-revised.mrc"
        if encoding == "utf-8":
            build(revised, args.records, encoding, revised_every=10)
        size = path.stat().st_size / 1e6
        base = run_child("pymarc", str(path))
        rows.append((encoding, "raw pymarc parse", base))
        targets = [("SQLite", work / f"{encoding}-{w}.sqlite3", w) for w in (0, args.workers)]
        if args.pg:
            targets += [("PostgreSQL", None, w) for w in (0, args.workers)]
        for name, file, workers in targets:
            url = f"sqlite:///{file}" if file else args.pg
            if file is None:
                reset_pg(url)
            result = run_child("import", str(path), url, str(work / f"var-{encoding}-{name}-{workers}"), str(workers))
            result["vs_pymarc"] = (result["records"] / result["seconds"]) / (base["records"] / base["seconds"])
            how = f"{workers} worker{'s' if workers > 1 else ''}" if workers else "1 process"
            rows.append((encoding, f"kutubxona import, {name}, {how}", result))
            if encoding == "utf-8":
                # the realistic next month: the same file again, a tenth of its records revised
                again = run_child("import", str(revised), url, str(work / f"var-{encoding}-{name}-{workers}"),
                                  str(workers))  # fmt: skip
                again["vs_pymarc"] = (again["records"] / again["seconds"]) / (base["records"] / base["seconds"])
                rows.append((encoding, f"  again, 10% revised ({again['updated']:,} updated)", again))
        print(f"{encoding}: {args.records} records, {size:.1f} MB")
    print(f"\n{'encoding':8} {'what':44} {'records/s':>10} {'peak RSS MB, all processes':>27} {'vs pymarc':>10} "
          f"{'SQLite file MB':>15}")  # fmt: skip
    for encoding, what, r in rows:
        rate = r["records"] / r["seconds"]
        ratio = f"{r['vs_pymarc']:.2f}" if "vs_pymarc" in r else ""
        size = f"{r['db_mb']:15.0f}" if r.get("db_mb") else ""
        print(f"{encoding:8} {what:44} {rate:10,.0f} {r['rss_mb']:27.0f} {ratio:>10} {size}")
    rerun = f".venv/bin/python bench/import.py --records {args.records} --workers {args.workers}"
    print(f"\nrerun: {rerun}" + (" --pg URL" if args.pg else ""))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        kind, rest = sys.argv[2], sys.argv[3:]
        sampler = RssSampler()
        sampler.start()
        result = child_pymarc(*rest) if kind == "pymarc" else child_import(*rest)
        sampler.stop()
        # this process's own peak, or more when its workers were running beside it
        result["rss_mb"] = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, sampler.peak_mb)
        print(json.dumps(result))
    else:
        main()
