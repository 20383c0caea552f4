"""Every real OAI-PMH response in ../shared/oai/samples: its records, or a precise error, never a crash.

What each file holds is described in ../shared/oai/samples/FIXTURES.md; the expectations below come
from reading the files, and every file not named here must still give one of the outcomes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harvest.pages import looks_like_oai, parse_page, unwrap
from tests.conftest import SHARED, require

SAMPLES = SHARED / "oai" / "samples"
FILES = sorted(SAMPLES.rglob("*.xml")) if SAMPLES.exists() else []

# file -> what it must give: ("records", n), ("sets", n), ("error", code), ("not OAI", None), ("broken", line)
EXPECTED = {
    "sickle/ListRecords.xml": ("records", 2),
    "sickle/ListRecords4.xml": ("records", 1),  # and a header without an identifier, set aside
    "sickle/ListSets.xml": ("sets", 131),
    "sickle/GetRecord_utf8test.xml": ("records", 1),
    "sickle/ListRecordsBroken.xml": ("not OAI", None),  # literally "broken xml"
    "sickle/undefinedError.xml": ("error", "undefinedError"),  # a code outside the enumeration, kept as sent
    "sickle/noSetHierarchy.xml": ("error", "noSetHierarchy"),
    "scythe-zenodo/identify_00.xml": ("not OAI", None),  # an HTML page
    "scythe-zenodo/list_records_00.xml": ("records", 50),
    "scythe-zenodo/list_records_02.xml": ("error", "noRecordsMatch"),  # sent with HTTP 422
    "scythe-zenodo/list_records_10.xml": ("error", "badResumptionToken"),
    "scythe-zenodo/list_sets_00.xml": ("sets", 5),
    "scythe-zenodo/get_record_00.xml": ("error", "badArgument"),
    "pyoai/fake1/00005.xml": ("records", 16),  # handles, not oai-identifiers: legal
    "pyoai/fake2/00002.xml": ("records", 81),
    "pyoai/fake1/00006.xml": ("not OAI", None),  # a bare oai_dc record, answered for a verb that does not exist
    "pyoai/fake3/00001.xml": ("broken", 1),  # mismatched tags
    "pyoai/fake4/00001.xml": ("broken", 1),  # an undefined entity
}


def outcome(path: Path) -> tuple[str, object]:
    body = unwrap(path.read_bytes())
    if not looks_like_oai(body):
        return "not OAI", None
    try:
        page = parse_page(body)
    except ValueError as exc:
        message = str(exc)
        assert message.startswith("not well-formed XML at line ") and "\n" not in message, message
        return "broken", int(message.split("line ")[1].split(":")[0])
    if page.error is not None:
        return "error", page.error[0]
    if page.sets:
        return "sets", len(page.sets)
    if page.records or page.set_aside:
        for aside in page.set_aside:
            assert aside.reason and aside.raw  # what was set aside says why, and keeps its bytes
        return "records", len(page.records)
    assert page.root is not None  # Identify, ListMetadataFormats: an envelope to read
    return "envelope", None


def test_the_samples_are_there():
    require(bool(FILES), f"real OAI-PMH responses in {SAMPLES}")
    assert len(FILES) == 69 and all((SAMPLES / name).exists() for name in EXPECTED)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(SAMPLES)))
def test_each_real_response_gives_its_records_or_a_precise_error(path: Path):
    got = outcome(path)
    expected = EXPECTED.get(str(path.relative_to(SAMPLES)))
    if expected is not None:
        assert got == expected
    else:
        assert got[0] in ("records", "sets", "error", "envelope")
