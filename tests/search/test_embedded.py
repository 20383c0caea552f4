"""The embedded index follows the catalogue; a query in either script finds a record in the other."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from repository.metadata.marc import DataField
from repository.search.embedded import QueryError, to_fts
from tests.conftest import Cli
from tests.helpers import import_json, marc, write


def found(cli: Cli, *query: str) -> list[str]:
    return [json.loads(line)["local_id"] for line in cli("search", "--json", *query).stdout.splitlines()]


@pytest.fixture
def books(cli: Cli, tmp_path: Path) -> Path:
    author = DataField("100", "1", " ", (("a", "Qodiriy, Abdulla"),))
    subject = DataField("650", " ", "4", (("a", "Kutubxonachilik"),))
    return write(
        tmp_path / "books.mrc",
        marc("S1", "Oʻzbekiston tarixi", author),
        marc("S2", "Ўзбек тили грамматикаси"),
        marc("S3", "История Узбекистана"),
        marc("S4", "Kutubxonalar ishi", subject),
        marc("S5", "Gʻalaba kuni"),
    )


def test_the_index_follows_each_import_and_deletion(cli: Cli, books: Path):
    import_json(cli, books)
    assert found(cli, "tarixi") == ["S1"]
    cli("delete", "S1")
    assert found(cli, "tarixi") == []
    import_json(cli, books)  # undeleted by the import: back in the index
    assert found(cli, "tarixi") == ["S1"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ўзбекистон", ["S1"]),  # Cyrillic finds Latin
        ("ozbek tili", ["S2"]),  # Latin, no apostrophe, finds Cyrillic
        ("o'zbekiston", ["S1"]),
        ("g`alaba", ["S5"]),
        ("ғалаба", ["S5"]),
        ("kutubxona", ["S4"]),  # a prefix finds kutubxonalar, in the title and in the subject
        ("author:qodiriy", ["S1"]),
        ("title:qodiriy", []),
        ('"ozbek tili grammatikasi"', ["S2"]),
        ("история", ["S3"]),
        ("istoriya", ["S3"]),  # Russian in Latin letters meets Russian in Cyrillic
    ],
)
def test_queries_in_either_script(cli: Cli, books: Path, query: str, expected: list[str]):
    import_json(cli, books)
    assert found(cli, query) == expected


def test_reindex_rebuilds_and_resumes(cli: Cli, books: Path, services):
    import_json(cli, books)
    services.search.clear()
    assert found(cli, "tarixi") == []
    assert json.loads(cli("reindex", "--json").stdout) == {"indexed": 5, "resumed": False}
    assert found(cli, "tarixi") == ["S1"]
    services.search.set_meta("reindex.last_id", "2")  # as a run that stopped after record 2 leaves it
    assert json.loads(cli("reindex", "--json").stdout) == {"indexed": 5, "resumed": True}


def test_a_failing_index_never_stops_the_catalogue(cli: Cli, books: Path, services, monkeypatch):
    def broken(ids):  # noqa: ANN001, ANN202
        raise OSError("disk full")

    monkeypatch.setattr(services.search, "mark", broken)
    assert import_json(cli, books)[0]["created"] == 5  # stored all the same
    assert len(services.feed.backlog("search")) == 5
    monkeypatch.undo()
    services.feed.retry()
    assert found(cli, "tarixi") == ["S1"] and services.feed.backlog("search") == []


@pytest.mark.parametrize(
    ("query", "message"),
    [("colour:red", "no field 'colour'"), ("***", "nothing to search for"), ("OR", "nothing to search for")],
)
def test_a_query_that_cannot_be_read_is_one_line(cli: Cli, query: str, message: str):
    with pytest.raises(QueryError, match=message):
        to_fts(query)
    result = cli("search", query, code=2)
    assert message in result.stderr and "Traceback" not in result.output


def test_an_import_only_notes_what_to_index_and_a_search_catches_up(cli: Cli, books: Path, services):
    import_json(cli, books)
    assert services.search.count() == 0 and len(services.search.pending(100)) == 5  # nothing indexed yet
    assert found(cli, "tarixi") == ["S1"]
    assert services.search.count() == 5 and services.search.pending(100) == []
