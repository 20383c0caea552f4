"""An embedded index file of an earlier layout is emptied, and searches say to reindex until one has."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from flask import Flask

from tests.conftest import Cli
from tests.helpers import import_json, marc, write
from tests.search.corpus import ids


def test_an_index_of_an_earlier_layout_asks_for_a_reindex(make_app: Callable[..., Flask], tmp_path: Path):
    (tmp_path / "var").mkdir()
    old = sqlite3.connect(tmp_path / "var" / "search.sqlite3")  # the first layout: no version, other columns
    old.execute("CREATE VIRTUAL TABLE docs USING fts5(local_id UNINDEXED, title, author)")
    old.commit()
    old.close()
    cli = Cli(make_app())
    import_json(cli, write(tmp_path / "a.mrc", marc("S1", "Oʻzbekiston tarixi")))
    result = cli("search", "tarixi", code=2)
    assert "run `kutubxona reindex`" in result.stderr and "Traceback" not in result.output
    cli("reindex")
    assert ids(cli, "tarixi") == ["S1"]
    assert ids(Cli(make_app()), "tarixi") == ["S1"]  # and stays usable when opened again
