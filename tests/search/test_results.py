"""What a result holds, on both backends: snippets in the record's own words, facets, sorting, pages,
and a spelling suggestion from the index's own words."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.helpers import import_json
from tests.search.corpus import ids, records, search


@pytest.fixture
def corpus(cli: Cli, tmp_path: Path) -> None:
    import_json(cli, records(tmp_path))


def test_snippets_mark_the_records_own_words(cli: Cli, corpus: None):
    [hit] = search(cli, "ozbek", "tili")["hits"]
    [snippet] = hit["snippets"]
    assert snippet["field"] == "title" and snippet["text"] == "Ўзбек тили грамматикаси"
    assert [snippet["text"][s:e] for s, e in snippet["marks"]] == ["Ўзбек", "тили"]


def test_facets_count_every_hit_not_only_the_page(cli: Cli, corpus: None):
    result = search(cli, "--limit", "2", "year:1900-2100")
    assert result["total"] == 9 and len(result["hits"]) == 2
    facets = {name: {f["value"]: f["count"] for f in values} for name, values in result["facets"].items()}
    assert facets["lang"] == {"uzb": 6, "rus": 2, "eng": 1}
    assert facets["type"] == {"book": 7, "serial": 1, "article": 1}
    assert facets["decade"] == {"1970": 1, "1980": 1, "1990": 1, "2000": 3, "2010": 2, "2020": 1}


def test_sort_by_year_and_by_title_across_scripts(cli: Cli, corpus: None):
    assert ids(cli, "--sort", "year", "lang:rus") == ["S3", "S6"]
    # titles sort by their folded form, so Cyrillic and Latin interleave: Biblioteka, Galaba, Ilm, Istoriya ...
    assert ids(cli, "--sort", "title", "year:1900-2100")[:4] == ["S6", "S5", "H1", "S3"]


def test_pages_follow_one_another(cli: Cli, corpus: None):
    whole = ids(cli, "--sort", "title", "year:1900-2100")
    pages = [ids(cli, "--sort", "title", "--limit", "4", "--page", str(n), "year:1900-2100") for n in (1, 2, 3)]
    assert [i for page in pages for i in page] == whole and len(pages[2]) == 1


def test_did_you_mean_from_the_index_vocabulary(cli: Cli, corpus: None):
    result = search(cli, "kutubxonalr", "ishi")
    assert result["total"] == 0 and result["suggestion"] == "kutubxonalar ishi"
    assert search(cli, "kutubxonalar")["suggestion"] is None
    plain = cli("search", "grammatikasu")
    assert "did you mean: grammatikasi" in plain.stderr


def test_an_empty_query_browses_newest_first_with_the_whole_catalogues_facets(cli: Cli, corpus: None):
    result = search(cli, "--limit", "3", "***")
    assert [h["id"] for h in result["hits"]] == ["A1", "H1", "S7"] and result["total"] == 9
    assert {f["value"]: f["count"] for f in result["facets"]["lang"]} == {"uzb": 6, "rus": 2, "eng": 1}
    assert ids(cli, "--sort", "year", "***")[:2] == ["A1", "S7"]  # 2020, then 2015
