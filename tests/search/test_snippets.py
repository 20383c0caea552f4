"""A snippet is a window of at most ``snippets.WIDTH`` characters of its field, however long the field and
whether or not it has spaces to cut at; on both backends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from repository.metadata import dc as dcmod
from repository.search.fold import words
from repository.search.snippets import WIDTH
from tests.conftest import Cli
from tests.helpers import import_json
from tests.search.corpus import search

LONGEST = WIDTH + 2  # the window, and an ellipsis at each end where it was cut


def _catalogue(tmp_path: Path, descriptions: dict[str, str]) -> Path:
    """A Dublin Core file of one record per title, with its (long) description."""
    records = []
    for title, text in descriptions.items():
        record = dcmod.DublinCore()
        record.add("title", title)
        record.add("description", text)
        records.append(dcmod.to_oai_dc(record, schema=False))
    path = tmp_path / "long.xml"
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<records>\n' + "\n".join(records) + "\n</records>\n")
    return path


def _notes(cli: Cli, query: str) -> dict:
    [hit] = search(cli, query)["hits"]
    [snippet] = [s for s in hit["snippets"] if s["field"] == "notes"]
    return snippet


@pytest.fixture
def long_fields(cli: Cli, tmp_path: Path) -> dict[str, str]:
    fields = {
        # as long as an imported field may be (KUTUBXONA_IMPORT_MAX_FIELD, 100,000 bytes), and no longer
        "Birinchi": "x" * 45_000 + "-kitobxon-" + "y" * 45_000,  # 90 KB without a space
        "Ikkinchi": "ozbekiston" + "q" * 90_000,  # one word of 90 KB, found by its prefix
        "Uchinchi": " ".join(["soʻz"] * 400 + ["navoiy"] + ["soʻz"] * 400),  # 4 KB of short words
    }
    assert import_json(cli, _catalogue(tmp_path, fields))[0]["created"] == 3
    return fields


def test_a_field_without_spaces_gives_a_snippet_of_its_width_with_the_word_marked(cli: Cli, long_fields: dict):
    snippet = _notes(cli, "kitobxon")
    assert len(snippet["text"]) <= LONGEST and snippet["text"][0] == snippet["text"][-1] == "…"
    [(start, end)] = snippet["marks"]
    assert snippet["text"][start:end] == "kitobxon"
    result = search(cli, "kitobxon")
    assert len(json.dumps(result, ensure_ascii=False)) < 4 * LONGEST  # the answer, not the 90 KB field


def test_one_word_longer_than_a_snippet_is_cut_and_marked_as_far_as_shown(cli: Cli, long_fields: dict):
    snippet = _notes(cli, "ozbekiston")
    assert len(snippet["text"]) <= LONGEST
    [(start, end)] = snippet["marks"]
    assert 0 <= start < end <= len(snippet["text"]) and "ozbekiston" in words(snippet["text"][start:end])[0]


def test_a_snippet_is_a_window_of_its_field_not_the_whole_field(cli: Cli, long_fields: dict):
    snippet = _notes(cli, "navoiy")
    text = snippet["text"]
    assert len(text) <= LONGEST and text.startswith("…") and text.endswith("…")
    assert text.strip("…") in long_fields["Uchinchi"] and text.strip("…") != long_fields["Uchinchi"]
    assert not text.strip("…").startswith(" ") and not text.strip("…").endswith(" ")  # cut between words
    assert all(w == "soʻz" for w in text.strip("…").split() if w != "navoiy")  # whole words only
    [(start, end)] = snippet["marks"]
    assert text[start:end] == "navoiy"
