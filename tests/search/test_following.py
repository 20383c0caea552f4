"""The index follows the catalogue: imports, updates, deletions, files and their text, hosts arriving late;
a backend that is down loses nothing; a reindex rebuilds, resumes, and swaps atomically."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from flask import Flask

from repository.metadata.marc import DataField
from tests.conftest import Cli, free_port
from tests.fulltext.pages import text_pdf
from tests.helpers import import_json, marc, write
from tests.search.corpus import f008, field, ids, search


def test_the_index_follows_import_update_and_deletion(cli: Cli, tmp_path: Path):
    first = marc("S1", "Oʻzbekiston tarixi", f008(1990, "rus"))
    import_json(cli, write(tmp_path / "a.mrc", first, marc("S2", "Gʻalaba kuni")))
    assert ids(cli, "tarixi") == ["S1"] and ids(cli, "tarixi lang:rus") == ["S1"]
    import_json(cli, write(tmp_path / "b.mrc", marc("S1", "Samarqand tarixi", f008(1990, "uzb"))))  # an update
    assert ids(cli, "samarqand") == ["S1"] and ids(cli, "ozbekiston") == []
    assert ids(cli, "tarixi lang:rus") == [] and ids(cli, "tarixi lang:uzb") == ["S1"]  # its old facet value left
    cli("delete", "S1")
    assert ids(cli, "tarixi") == [] and search(cli, "tarixi")["total"] == 0
    cli("history", "S1", "--restore", "1")
    assert ids(cli, "ozbekiston") == ["S1"]


def test_the_text_of_open_files_is_searchable_by_page_and_restricted_text_is_not(cli: Cli, tmp_path: Path):
    import_json(cli, write(tmp_path / "a.mrc", marc("F1", "Kitob"), marc("F2", "Maxfiy kitob")))
    book = tmp_path / "kitob.pdf"
    book.write_bytes(text_pdf([["Birinchi sahifa"], ["Navoiy dostonlari haqida"]]))
    cli("attach", "F1", book)
    secret = tmp_path / "secret.pdf"
    secret.write_bytes(text_pdf([["Navoiy maxfiy hujjat"]]))
    cli("attach", "F2", secret, "--access", "restricted")
    result = search(cli, "text:navoiy")
    assert [h["id"] for h in result["hits"]] == ["F1"]
    [snippet] = result["hits"][0]["snippets"]
    assert snippet["field"] == "text" and snippet["page"] == 2 and snippet["file"] == "kitob.pdf"
    start, end = snippet["marks"][0]
    assert snippet["text"][start:end] == "Navoiy"
    assert ids(cli, "dostonlar") == ["F1"]  # the one box reaches the full text too
    assert search(cli, "kitob")["facets"]["fulltext"] == [{"value": "no", "count": 1}, {"value": "yes", "count": 1}]


def test_an_article_finds_its_journal_whichever_arrives_first(cli: Cli, tmp_path: Path):
    article = marc("A1", "Dostonlar haqida", DataField("773", "0", " ", (("w", "(UzNL)H1"), ("g", "2020, № 2"))),
                   leader="00000naa a2200000 i 4500")  # fmt: skip
    import_json(cli, write(tmp_path / "a.mrc", article))
    assert ids(cli, "journal:ilm") == []
    hit = search(cli, "dostonlar")["hits"][0]
    assert "host" not in hit or hit["host"]["id"] is None
    import_json(cli, write(tmp_path / "h.mrc", marc("H1", "Ilm-fan jurnali", leader="00000nas a2200000 i 4500")))
    assert ids(cli, "journal:ilm") == ["A1"]  # the article was indexed again when its host arrived
    hit = search(cli, "dostonlar")["hits"][0]
    assert hit["host"] == {"title": "Ilm-fan jurnali", "part": "2020, № 2", "id": "H1"}
    cli("delete", "H1")
    assert ids(cli, "journal:ilm") == []


def test_the_sample_collection_articles_by_journal_in_marc_and_dc(cli: Cli, sample_dir: Path):
    import_json(cli, *sorted(sample_dir.iterdir()))
    marc_articles = ids(cli, "journal:1234-5679", "type:article")
    assert marc_articles and all(i.startswith("ART") for i in marc_articles)
    hit = search(cli, "journal:1234-5679", "--limit", "1")["hits"][0]
    assert hit["host"]["id"].startswith("SER") and hit["host"]["part"]
    assert hit["host"]["title"] == "Central Asian Library Review"
    # UNIMARC class numbers and DC articles' dc:relation
    assert all(i.startswith(("UZM", "RU")) for i in ids(cli, "bbk:78.3"))
    assert search(cli, 'journal:"Central Asian Library Review"', "type:article")["total"] > len(marc_articles) - 1


def test_a_search_engine_that_is_down_loses_nothing(make_app: Callable[..., Flask], osmem_url: str, tmp_path: Path):
    backend = {"SEARCH_URL": osmem_url, "SEARCH_INDEX": "test-down"}
    down = make_app(SEARCH_URL=f"http://127.0.0.1:{free_port()}", SEARCH_INDEX="test-down")
    cli = Cli(down)
    assert import_json(cli, write(tmp_path / "a.mrc", marc("S1", "Oʻzbekiston tarixi")))[0]["created"] == 1
    result = cli("search", "tarixi", code=2)
    assert "search engine at http://127.0.0.1" in result.stderr and "Traceback" not in result.output
    up = Cli(make_app(**backend))  # the same VAR_DIR: the same notes of what to index
    assert ids(up, "tarixi") == ["S1"]


def test_reindex_rebuilds_into_a_new_generation_and_resumes(cli: Cli, services, tmp_path: Path):
    import_json(cli, write(tmp_path / "a.mrc", *(marc(f"S{i}", f"Kitob {i}") for i in range(1, 8))))
    assert search(cli, "kitob")["total"] == 7
    index = services.search
    before = _indices(index)
    assert json.loads(cli("reindex", "--json").stdout) == {"indexed": 7, "resumed": False,
                                                          "backend": index.backend.name}  # fmt: skip
    if index.backend.name == "elasticsearch":  # a new index behind the alias; the old one dropped
        after = _indices(index)
        assert len(after) == 1 and after != before
    # a run that stopped after record 3 resumes from there, into the generation it was filling
    generation = index.backend.new_generation()
    index.state.put("reindex.generation", generation)
    index.state.put("reindex.last_id", "3")
    result = json.loads(cli("reindex", "--json").stdout)
    assert result["resumed"] is True and result["indexed"] == 4  # only records 4-7 were read again
    assert json.loads(cli("reindex", "--restart", "--json").stdout)["indexed"] == 7
    assert search(cli, "kitob")["total"] == 7
    assert search(cli, "kitb")["suggestion"] == "kitob"  # the vocabulary follows a rebuilt index


def _indices(index) -> list[str]:  # noqa: ANN001
    if index.backend.name != "elasticsearch":
        return []
    return sorted(index.backend.client.indices.get_alias(name=index.backend.alias))


def test_changes_during_a_reindex_reach_the_new_generation(cli: Cli, services, tmp_path: Path):
    import_json(cli, write(tmp_path / "a.mrc", marc("S1", "Eski nom")))
    search(cli, "eski")
    index = services.search
    generation = index.backend.new_generation()
    index.state.put("reindex.generation", generation)
    index.state.put("reindex.last_id", "1")  # S1 already read, with its old title
    import_json(cli, write(tmp_path / "b.mrc", marc("S1", "Yangi nom")))
    assert ids(cli, "yangi") == ["S1"]  # a search catches up: into the published generation and the new one
    cli("reindex")
    assert ids(cli, "yangi") == ["S1"] and ids(cli, "eski") == []


def test_a_failing_index_never_stops_the_catalogue(cli: Cli, services, tmp_path: Path, monkeypatch):
    def broken(ids):  # noqa: ANN001, ANN202
        raise OSError("disk full")

    monkeypatch.setattr(services.search.state, "mark", broken)
    assert import_json(cli, write(tmp_path / "a.mrc", marc("S1", "Oʻzbekiston tarixi")))[0]["created"] == 1
    assert len(services.feed.backlog("search")) == 1
    monkeypatch.undo()
    services.feed.retry()
    assert ids(cli, "tarixi") == ["S1"] and services.feed.backlog("search") == []


def test_an_import_only_notes_what_to_index_and_a_search_catches_up(cli: Cli, services, tmp_path: Path):
    import_json(cli, write(tmp_path / "a.mrc", marc("S1", "Oʻzbekiston tarixi"), marc("S2", "Gʻalaba")))
    assert len(services.search.state.pending(100)) == 2
    assert ids(cli, "tarixi") == ["S1"]
    assert services.search.state.pending(100) == [] and services.search.backend.count() == 2


def test_a_subject_heading_is_a_facet_value_whole(cli: Cli, tmp_path: Path):
    heading = field("650", ("a", "Uzbekistan"), ("x", "History"), ind=" 0")
    import_json(cli, write(tmp_path / "a.mrc", marc("S1", "Tarix", heading)))
    assert search(cli, "tarix")["facets"]["subject"] == [{"value": "Uzbekistan -- History", "count": 1}]


def test_a_reindex_in_worker_processes_builds_the_same_index(cli: Cli, sample_dir: Path, monkeypatch):
    from repository.actions import searching

    import_json(cli, *sorted(sample_dir.iterdir()))
    queries = [("tarix",), ("ўзбекистон", "--sort", "title"), ("journal:1234-5679",), ("bbk:78.3", "--limit", "50")]

    def answers() -> list[dict]:
        return [search(cli, *q) for q in queries]

    monkeypatch.setattr(searching, "PARALLEL_FROM", 10**9)  # in this process
    assert json.loads(cli("reindex", "--restart", "--json").stdout)["indexed"] == 386
    alone = answers()
    monkeypatch.setattr(searching, "PARALLEL_FROM", 1)  # in IMPORT_WORKERS (2) spawned processes
    assert json.loads(cli("reindex", "--restart", "--json").stdout)["indexed"] == 386
    assert answers() == alone and all(a["total"] for a in alone)
