"""Citations read from the description: kinds, authors, the host's volume, issue and pages, escaping."""

from __future__ import annotations

import json

import pytest

from repository.metadata.citations import citation, to_bibtex, to_csl, to_ris
from repository.metadata.formats import prepare_source
from repository.metadata.marc import DataField
from repository.metadata.marcxml import to_marcxml
from tests.helpers import marc


def cite(*fields: DataField, kind: str = "article", host: tuple[str, str] | None = None):  # noqa: ANN201
    record = marc("C1", "Kutubxona & axborot_markazi {2}", DataField("100", "1", " ", (("a", "Karimov, A."),)),
                  *fields)  # fmt: skip
    return citation(prepare_source("marc21", to_marcxml(record)), "C1", kind, "http://x/records/C1", host)


@pytest.mark.parametrize(
    ("part", "volume", "issue", "pages"),
    [("Vol. 12, no. 3 (2020), p. 45-67", "12", "3", "45-67"), ("2020. – Т. 5, № 2. – С. 10–20", "5", "2", "10-20"),
     ("2021, jild 3, son 4, b. 7-9", "3", "4", "7-9"), ("2019", "", "", "")],
)  # fmt: skip
def test_the_part_of_a_host_gives_volume_issue_and_pages(part: str, volume: str, issue: str, pages: str):
    c = cite(host=("Axborot", part))
    assert (c.journal, c.volume, c.issue, c.pages) == ("Axborot", volume, issue, pages)


def test_bibtex_escapes_what_tex_reads_as_commands_and_keeps_unicode():
    entry = to_bibtex([cite(kind="book")])
    assert "title = {Kutubxona \\& axborot\\_markazi \\textbraceleft{}2\\textbraceright{}}" in entry
    assert entry.startswith("@book{C1,")
    assert "url = {http://x/records/C1}" in entry


def test_ris_and_csl_of_an_article():
    c = cite(host=("Axborot", "2020, № 2, b. 10-20"))
    lines = to_ris([c]).split("\r\n")
    assert lines[:3] == ["TY  - JOUR", "ID  - C1", "TI  - Kutubxona & axborot_markazi {2}"]
    assert {"AU  - Karimov, A.", "T2  - Axborot", "IS  - 2", "SP  - 10", "EP  - 20"} <= set(lines)
    [item] = json.loads(to_csl([c]))
    assert item["author"] == [{"family": "Karimov", "given": "A"}] and item["issue"] == "2"
    assert item["type"] == "article-journal" and item["page"] == "10-20"


def test_a_doi_is_cited_in_every_format():
    c = cite(DataField("024", "7", " ", (("a", "10.1234/kx_2020.5"), ("2", "doi"))))
    assert c.doi == "10.1234/kx_2020.5"
    assert "DO  - 10.1234/kx_2020.5" in to_ris([c]).split("\r\n")
    assert "doi = {10.1234/kx_2020.5}" in to_bibtex([c])  # verbatim: not kx\_2020
    assert json.loads(to_csl([c]))[0]["DOI"] == "10.1234/kx_2020.5"
    assert cite().doi == "" and "DO  -" not in to_ris([cite()])
