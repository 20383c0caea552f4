"""Parse benchmark: is reading a query, and reading a record's values, linear in their length?

    .venv/bin/python bench/parse.py [--sizes 1,4,16,64] [--repeat 5]

Queries: for each kind of token of the query language (the kinds of tests/search/test_query_limits.py:
words, quotes, phrases with a prefix, fields, year ranges, identifiers, links, DOIs, operators,
parentheses, signs, and the pieces that once backtracked: a year with a quoted run of spaces, a chain
of ORs), a query of each size in KB is read by ``search.query.parse`` with its length limit lifted, so
that the grammar itself is timed (the service refuses a query over ``query.MAX_LENGTH`` characters
before reading it).  Record values: the patterns of ``metadata`` that read what an imported file
holds, each on the value that made it backtrack: ISBD punctuation chopped from the end of a value,
773 $w's ``(org)`` prefix, and the start tags an XML file is cut at when its parse broke.

Each row prints the time per KB at every size (the best of ``--repeat`` runs) and the ratio of the
largest size's time per KB to the smallest's: about 1 when the time is linear in the length; a
quadratic one grows with the size (x64 from 1 to 64 KB).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from repository.metadata import crosswalk, description, reading  # noqa: E402
from repository.metadata.marc import DataField  # noqa: E402
from repository.search.query import QueryError, parse  # noqa: E402
from tests.search.test_query_limits import KINDS  # noqa: E402  (the kinds the test reads at 64 KB)


def _filled(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def _query(text: str) -> None:
    with contextlib.suppress(QueryError):  # refused is read too
        parse(text, max_length=None, max_words=None)


# each row: the input of a size (characters or bytes), and what reads it
QUERIES: dict[str, tuple[Callable[[int], object], Callable]] = {
    kind: (lambda size, unit=unit: _filled(unit, size), _query) for kind, unit in KINDS.items()
}
QUERIES['year:"1 ... x" (a run of spaces)'] = (lambda size: 'year:"1' + " " * size + 'x"', _query)
RECORD_VALUES: dict[str, tuple[Callable[[int], object], Callable]] = {
    "ISBD end: spaces inside": (lambda size: "a" + " " * size + "b /", crosswalk._strip),
    "ISBD end: '. ' repeated": (lambda size: "a" + ". " * (size // 2), crosswalk._strip),
    "773 $w: (org), spaces, lines": (lambda size: DataField("773", "0", " ", (("w", "(o)" + " " * size + "\nx\ny"),)),
                                     description._marc21_host),
    "XML root tag without '>'": (lambda size: b"<a" + b".a" * (size // 2), reading._START.search),
    "<record tags without '>'": (lambda size: b"<record " * (size // 8),
                                 lambda data: list(reading._top_level(data, b"record", 0))),
}  # fmt: skip


def timed(make: Callable[[int], object], run: Callable, kb: int, repeat: int) -> float:
    """Seconds per KB reading an input of ``kb`` KB: the best of ``repeat`` runs, each long enough to time."""
    value = make(kb * 1024)
    loops = max(1, 64 // kb)
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(loops):
            run(value)
        best = min(best, (time.perf_counter() - started) / loops)
    return best / kb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,4,16,64", help="sizes in KB, comma-separated")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    head = " ".join(f"{f'{kb} KB':>9}" for kb in sizes)
    for title, rows in (("query (parse)", QUERIES), ("record value", RECORD_VALUES)):
        print(f"\n{title:34} {head} {'ratio':>7}   (microseconds per KB)")
        for kind, (make, run) in rows.items():
            per_kb = [timed(make, run, kb, args.repeat) for kb in sizes]
            figures = " ".join(f"{t * 1e6:9.1f}" for t in per_kb)
            print(f"{kind:34} {figures} {per_kb[-1] / per_kb[0]:7.2f}", flush=True)
    print(f"\nrerun: .venv/bin/python bench/parse.py --sizes {args.sizes} --repeat {args.repeat}")


if __name__ == "__main__":
    main()
