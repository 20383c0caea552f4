"""Album PDF benchmark: a collection's QR album made (cold) against the same album kept (cached).

    .venv/bin/python bench/albums.py [--records 120] [--rounds 10]

Imports ``--records`` records into one set of a fresh SQLite catalogue (60 cards to an album part, so
120 records make two parts), then asks the app in this process for ``/collections/albom/album.pdf``
``--rounds`` times with the kept albums removed before each (cold: the QR codes and the PDF made
again), and ``--rounds`` times as it is kept (cached: the collection read, the key computed, the
file read).  It reports the wall and CPU time of each request (p50 and worst): the CPU time is what
a public request costs the node.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def build(work: Path, records: int):  # noqa: ANN201 - a Flask app
    """A catalogue of ``records`` records in set ``albom``, and the app over it."""
    from repository import create_app
    from repository.actions.importing import ImportOptions
    from repository.metadata.marc import ControlField, DataField, MarcRecord, to_iso2709

    app = create_app({"VAR_DIR": str(work / "var"), "AUTO_MIGRATE": "yes", "BASE_URL": "https://kutubxona.example.uz"})
    svc = app.extensions["kutubxona"]
    from repository.actions import records as record_actions

    record_actions.add_set(svc, "albom", "Albom uchun toʻplam")
    data = work / "records.mrc"
    with data.open("wb") as out:
        for n in range(records):
            out.write(to_iso2709(MarcRecord("00000nam a2200000 i 4500", [
                ControlField("001", f"ALB{n:06d}"), ControlField("003", "UzNL"),
                DataField("100", "1", " ", (("a", f"Muallif {n}, Ali"),)),
                DataField("245", "1", "0", (("a", f"Oʻzbekiston tarixi: {n}-jild / Ўзбекистон тарихи {n}"),)),
                DataField("264", " ", "1", (("a", "Toshkent"), ("b", "Fan"), ("c", str(1950 + n % 70)))),
            ])))  # fmt: skip
    report = svc.importer().import_file(data, ImportOptions(sets=("albom",)))
    print(f"  imported {report.counts['created']} records into set albom")
    return app


def timed(client, path: str) -> tuple[float, float, int]:  # noqa: ANN001 - Flask's test client
    """Wall and CPU milliseconds of one request, and its size; it must answer 200."""
    wall, cpu = time.perf_counter(), time.process_time()
    response = client.get(path)
    wall, cpu = (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{path}: HTTP {response.status_code} {response.data[:200]!r}")
    return wall, cpu, len(response.data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=120)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    work = Path(tempfile.mkdtemp(prefix="kx-albums-"))
    try:
        app = build(work, args.records)
        kept = Path(app.extensions["kutubxona"].settings.var_dir) / "albums"
        client = app.test_client()
        path = "/collections/albom/album.pdf?lang=uz_Latn"
        timed(client, "/collections/albom/album?lang=uz_Latn")  # warm: catalogues, connections, the font
        cold, cached = [], []
        for _ in range(args.rounds):
            shutil.rmtree(kept, ignore_errors=True)
            cold.append(timed(client, path))
        for _ in range(args.rounds):
            cached.append(timed(client, path))
        size = cold[0][2]
        app.extensions["kutubxona"].close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nalbum part 1 of {-(-args.records // 60)}: {min(args.records, 60)} cards, {size / 1024:.0f} KB; "
          f"{args.rounds} requests each, in this process (no HTTP)")  # fmt: skip
    print(f"{'':8} {'wall p50 ms':>12} {'wall max ms':>12} {'CPU p50 ms':>11} {'CPU max ms':>11}")
    for name, runs in (("cold", cold), ("cached", cached)):
        walls, cpus = [r[0] for r in runs], [r[1] for r in runs]
        print(f"{name:8} {statistics.median(walls):12.1f} {max(walls):12.1f} {statistics.median(cpus):11.1f} "
              f"{max(cpus):11.1f}")  # fmt: skip
    ratio = statistics.median(r[1] for r in cold) / max(statistics.median(r[1] for r in cached), 0.001)
    print(f"cached costs 1/{ratio:.0f} of the CPU of cold")
    print(f"\nrerun: .venv/bin/python bench/albums.py --records {args.records} --rounds {args.rounds}")


if __name__ == "__main__":
    main()
