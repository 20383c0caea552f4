"""An embedded index file of an earlier layout is emptied, and searches say to reindex until one has."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from flask import Flask

from tests.conftest import Cli
from tests.helpers import import_json, marc, write
from tests.search.corpus import f008, ids


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


def test_an_index_of_the_previous_facet_layout_is_searched_and_updated(make_app: Callable[..., Flask], tmp_path: Path):
    """Files written before ``tags`` had one key (value, document) hold it keyed by document, with a second
    index by value; the statements of both layouts are the same, so such a file needs no reindex."""
    cli = Cli(make_app())
    import_json(cli, write(tmp_path / "a.mrc", marc("R1", "Kitob", f008(1990, "rus")),
                           marc("R2", "Kitob va kitobxon", f008(1991, "rus"))))  # fmt: skip
    assert set(ids(cli, "kitob lang:rus")) == {"R1", "R2"}  # indexed now, in the current layout
    index = sqlite3.connect(tmp_path / "var" / "search.sqlite3")
    with index:
        rows = index.execute("SELECT tag, doc FROM tags").fetchall()
        index.execute("DROP TABLE tags")
        index.execute("CREATE TABLE tags (doc INTEGER NOT NULL, tag INTEGER NOT NULL, PRIMARY KEY (doc, tag)) "
                      "WITHOUT ROWID")  # fmt: skip
        index.execute("CREATE INDEX tags_tag ON tags(tag, doc)")
        index.executemany("INSERT INTO tags(tag, doc) VALUES (?, ?)", rows)
    index.close()
    cli = Cli(make_app())
    assert set(ids(cli, "kitob lang:rus")) == {"R1", "R2"}
    import_json(cli, write(tmp_path / "b.mrc", marc("R1", "Kitob", f008(1990, "uzb"))))  # R1 becomes Uzbek
    assert ids(cli, "kitob lang:rus") == ["R2"] and ids(cli, "kitob lang:uzb") == ["R1"]
