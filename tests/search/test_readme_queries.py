"""Every example of README's table of queries, run against the sample collection on both backends, finds
what the table says: at least one record, the records it names in italics, and none it names after
"without"."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from tests.conftest import Cli
from tests.search.corpus import search

README = Path(__file__).resolve().parents[2] / "README.md"
_CODE = re.compile(r"`([^`]+)`")
_ITALIC = re.compile(r"(without )?(?<![*\w])\*([^*]+)\*(?![*\w])")


def examples() -> list[tuple[str, list[str], list[str]]]:
    """(query, titles it finds, titles it does not) for each query of the table after **Queries.**."""
    text = README.read_text(encoding="utf-8")
    lines = text[text.index("**Queries.**") :].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| query |"))
    out = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        queries, finds = (cell.strip() for cell in line.strip().strip("|").split(" | "))
        named = _ITALIC.findall(_CODE.sub("", finds))
        wanted = [title for without, title in named if not without]
        unwanted = [title for without, title in named if without]
        out += [(query, wanted, unwanted) for query in _CODE.findall(queries)]
    return out


def test_the_readme_names_its_examples():
    found = examples()
    assert len(found) >= 30 and ("isbn:9943000007", ["Oʻzbekiston tarixi 1-qism"], []) in found
    assert ("tarixi -toshkent", ["Oʻzbekiston tarixi"], ["Toshkent shahri tarixi"]) in found


def _titles(cli: Cli, query: str) -> tuple[int, list[str]]:
    """How many records a query finds, and the titles of all of them (page after page)."""
    first = search(cli, "--limit", "100", query)
    titles = [h["title"] for h in first["hits"]]
    for page in range(2, first["pages"] + 1):
        titles += [h["title"] for h in search(cli, "--limit", "100", "--page", str(page), query)["hits"]]
    return first["total"], [unicodedata.normalize("NFC", t) for t in titles]


def _among(titles: list[str], wanted: str) -> bool:
    return any(title.startswith(unicodedata.normalize("NFC", wanted)) for title in titles)


def test_every_example_of_the_readme_finds_what_it_says(cli: Cli):
    cli("sample", "load")
    wrong = []
    for query, wanted, unwanted in examples():
        refused = cli("search", query, code=None)
        if refused.exit_code:
            wrong.append(f"{query}: {refused.stderr.strip()}")
            continue
        total, titles = _titles(cli, query)
        missing = [t for t in wanted if not _among(titles, t)]
        found = [t for t in unwanted if _among(titles, t)]
        if not total or missing or found:
            wrong.append(f"{query}: {total} found; missing {missing}; found {found}")
    assert not wrong, "\n".join(wrong)
