"""Pages reach the first 10,000 hits (``backend.MAX_WINDOW``) and no further, on both backends: ``pages`` says
how many can be read, the last of them is served, and a page past them is empty with the total intact.

The catalogue holds two records; the index also holds 10,050 documents written into it directly (the
backends' own ``update``), which sort before them by title: a page shows the catalogue's records only, so
where they appear says which hits a page reached.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from repository.search.backend import MAX_WINDOW
from repository.search.documents import Indexed
from repository.search.elastic import ElasticIndex
from repository.search.query import TEXT_FIELDS
from tests.conftest import Cli
from tests.helpers import import_json, marc, write
from tests.search.corpus import search

FILLER = 10_050


@pytest.fixture
def past_the_window(cli: Cli, services, tmp_path: Path) -> None:  # noqa: ANN001
    # by title, "kitob a09995x" is hit 9,997 (after a00000 ... a09995) and "kitob zzz" the last, 10,052
    import_json(cli, write(tmp_path / "two.mrc", marc("IN", "Kitob a09995x"), marc("OUT", "Kitob zzz")))
    empty = [""] * (len(TEXT_FIELDS) - 1)
    filler = [Indexed(100_000 + n, f"F{n}", False, 2000, f"kitob a{n:05d}", (f"kitob a{n:05d}", *empty),
                      (("type", ("book",)),)) for n in range(FILLER)]  # fmt: skip
    backend = services.search.backend
    if backend.name != "embedded":  # a patient client: osmem on a busy machine took over the service's 10 s a bulk
        backend = ElasticIndex(services.settings.search_url, services.settings.search_index, timeout=300)
    for start in range(0, FILLER, 2_000):
        backend.update(filler[start : start + 2_000])
    if backend is not services.search.backend:
        backend.close()


def test_pages_reach_the_first_10000_hits_and_no_further(cli: Cli, past_the_window: None):
    first = search(cli, "--sort", "title", "--limit", "100", "kitob")
    assert first["total"] == FILLER + 2 and first["pages"] == MAX_WINDOW // 100 == 100
    last = search(cli, "--sort", "title", "--limit", "100", "--page", "100", "kitob")
    assert [h["id"] for h in last["hits"]] == ["IN"]  # hit 9,997 is on the last page that can be read
    beyond = search(cli, "--sort", "title", "--limit", "100", "--page", "101", "kitob")
    assert beyond["hits"] == [] and beyond["total"] == FILLER + 2 and beyond["pages"] == 100  # OUT is not reached
    # 30 a page: page 334 holds hits 9,991-10,000 of the window, not up to 10,020, which the engines refuse
    cut = search(cli, "--sort", "title", "--limit", "30", "--page", "334", "kitob")
    assert cut["pages"] == 334 and [h["id"] for h in cut["hits"]] == ["IN"]
    assert search(cli, "--sort", "title", "--limit", "30", "--page", "335", "kitob")["hits"] == []
