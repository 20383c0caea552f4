"""The six verbs, resumption tokens and errors over an in-memory store: no HTTP, no database.

Every response is validated against the project's schemas (and the official ones beside the
project, as in CI); the end-to-end tests in tests/web run the same protocol over HTTP and SQL.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree

from repository.metadata.formats import FORMATS
from repository.oai import OAISettings, refusal, respond
from repository.oai.errors import BadVerb
from tests.oai.memory_store import MemoryStore
from tests.oai_client import NS, validate

NOW = datetime(2026, 3, 1, 12, 0, 0)
T0 = datetime(2026, 1, 1, 8, 0, 0)
REPO = "test.kutubxona.uz"
SETTINGS = OAISettings(
    base_url="http://kutubxona.test/oai",
    repository_name="Sinov kutubxonasi",
    repository_id=REPO,
    admin_emails=("admin@kutubxona.uz",),
    secret_key="memory-secret",
    page_size=3,
    formats=tuple(FORMATS.values()),
)


@pytest.fixture
def store() -> MemoryStore:
    """Seven records a minute apart (R4 a tombstone), in a small set hierarchy, and five sets."""
    s = MemoryStore()
    for spec, name in (("fond", "Fond"), ("fond:asosiy", "Asosiy"), ("fond:noyob", "Noyob"), ("fondx", "X"),
                       ("jurnal", "Jurnallar")):  # fmt: skip
        s.add_set(spec, name, f"{name} toʻplami")
    for n in range(1, 8):
        sets = ("fond:asosiy",) if n <= 3 else ("fond:noyob",) if n <= 5 else ("fondx",)
        s.add(f"R{n}", T0 + timedelta(minutes=n), sets, deleted=n == 4)
    return s


def ask(store: MemoryStore, settings: OAISettings = SETTINGS, now: datetime = NOW, **args: str) -> etree._Element:
    """Answer one request (``from_`` stands for ``from``) and validate the response."""
    pairs = [("from" if k == "from_" else k, v) for k, v in args.items()]
    doc = etree.fromstring(respond(pairs, store, settings, now))
    validate(doc)
    return doc


def xp(doc: etree._Element, path: str) -> list:
    return doc.xpath(path, namespaces=NS)


def error(doc: etree._Element) -> str | None:
    found = xp(doc, "/o:OAI-PMH/o:error/@code")
    return found[0] if found else None


def ident(local: str) -> str:
    return f"oai:{REPO}:{local}"


def harvest(store: MemoryStore, verb: str, **args: str) -> tuple[list[str], list[etree._Element]]:
    """Follow a list's tokens to the end; the identifiers in order and each page's token element."""
    ids, tokens = [], []
    doc = ask(store, verb=verb, **args)
    for _ in range(len(store.items) + len(store.set_infos) + 2):  # a page holds at least one item
        assert error(doc) is None, etree.tostring(doc)
        ids += xp(doc, "//o:header/o:identifier/text()") or xp(doc, "//o:set/o:setSpec/text()")
        token = xp(doc, "//o:resumptionToken")
        if not token:
            return ids, tokens
        tokens.append(token[0])
        if not token[0].text:
            return ids, tokens
        doc = ask(store, verb=verb, resumptionToken=token[0].text)
    raise AssertionError("the list never ends: its tokens lead back to pages already sent")


def test_identify_describes_the_repository(store: MemoryStore):
    doc = ask(store, verb="Identify")
    assert xp(doc, "//o:repositoryName/text()") == ["Sinov kutubxonasi"]
    assert xp(doc, "//o:earliestDatestamp/text()") == ["2026-01-01T08:01:00Z"]
    assert xp(doc, "//o:deletedRecord/text()") == ["persistent"]
    assert xp(doc, "//o:granularity/text()") == ["YYYY-MM-DDThh:mm:ssZ"]
    assert xp(doc, "//id:sampleIdentifier/text()") == [ident("R1")]
    assert xp(doc, "/o:OAI-PMH/o:responseDate/text()") == ["2026-03-01T12:00:00Z"]


def test_identify_of_an_empty_repository_still_has_an_earliest_datestamp():
    doc = ask(MemoryStore(), verb="Identify")
    assert xp(doc, "//o:earliestDatestamp/text()") == ["2026-03-01T12:00:00Z"]


def test_list_metadata_formats_for_the_repository_and_for_one_record(store: MemoryStore):
    every = ask(store, verb="ListMetadataFormats")
    # a harvester picks a format by its namespace, and may validate by the schema
    described = [tuple(f.xpath("o:*/text()", namespaces=NS)) for f in xp(every, "//o:metadataFormat")]
    assert described == [
        ("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd", "http://www.openarchives.org/OAI/2.0/oai_dc/"),
        ("marc21", "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd", "http://www.loc.gov/MARC21/slim"),
        ("marcxchange", "http://www.loc.gov/standards/iso25577/marcxchange-2-0.xsd", "info:lc/xmlns/marcxchange-v2"),
    ]
    one = ask(store, verb="ListMetadataFormats", identifier=ident("R2"))
    assert xp(one, "//o:metadataPrefix/text()") == ["oai_dc"]
    assert error(ask(store, verb="ListMetadataFormats", identifier=ident("nowhere"))) == "idDoesNotExist"


def test_get_record_live_and_deleted(store: MemoryStore):
    live = ask(store, verb="GetRecord", identifier=ident("R2"), metadataPrefix="oai_dc")
    assert xp(live, "//o:header/o:datestamp/text()") == ["2026-01-01T08:02:00Z"]
    assert xp(live, "//o:header/o:setSpec/text()") == ["fond:asosiy"]
    assert xp(live, "//dc:title/text()") == ["Kitob R2"]
    gone = ask(store, verb="GetRecord", identifier=ident("R4"), metadataPrefix="oai_dc")
    assert xp(gone, "//o:header/@status") == ["deleted"] and not xp(gone, "//o:metadata")


def test_a_record_in_several_sets_lists_each_lowest_one(store: MemoryStore):
    # OAI-PMH 2.7.2: membership of fond:noyob:qadimiy implies fond:noyob and fond; fondx is no child of fond
    sets = ("fond", "fond:asosiy", "fond:noyob", "fond:noyob:qadimiy", "fondx", "jurnal")
    store.add("M1", T0 + timedelta(minutes=30), sets)
    lowest = ["fond:asosiy", "fond:noyob:qadimiy", "fondx", "jurnal"]
    one = ask(store, verb="GetRecord", identifier=ident("M1"), metadataPrefix="oai_dc")
    assert xp(one, "//o:header/o:setSpec/text()") == lowest
    listed = ask(store, verb="ListIdentifiers", metadataPrefix="oai_dc", set="jurnal")
    assert xp(listed, "//o:header/o:setSpec/text()") == lowest


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ({"identifier": ident("R2"), "metadataPrefix": "marc21"}, "cannotDisseminateFormat"),
        ({"identifier": ident("R2"), "metadataPrefix": "mods"}, "cannotDisseminateFormat"),
        ({"identifier": ident("R99"), "metadataPrefix": "oai_dc"}, "idDoesNotExist"),
        ({"identifier": "oai:elsewhere.uz:R2", "metadataPrefix": "oai_dc"}, "idDoesNotExist"),
        ({"metadataPrefix": "oai_dc"}, "badArgument"),
        ({"identifier": ident("R2")}, "badArgument"),
    ],
)
def test_get_record_errors(store: MemoryStore, args: dict[str, str], code: str):
    assert error(ask(store, verb="GetRecord", **args)) == code


def test_list_records_walks_every_page_once_in_datestamp_order(store: MemoryStore):
    ids, tokens = harvest(store, "ListRecords", metadataPrefix="oai_dc")
    assert ids == [ident(f"R{n}") for n in range(1, 8)]
    # OAI-PMH 3.5: completeListSize and cursor on every token; the last one is empty
    assert [(t.get("cursor"), t.get("completeListSize")) for t in tokens] == [("0", "7"), ("3", "7"), ("6", "7")]
    assert tokens[-1].text is None and tokens[0].text


def test_list_records_carries_each_records_metadata_on_every_page(store: MemoryStore):
    records, pages = [], [ask(store, verb="ListRecords", metadataPrefix="oai_dc")]
    while (token := xp(pages[-1], "//o:resumptionToken/text()")) and len(pages) < 5:
        pages.append(ask(store, verb="ListRecords", resumptionToken=token[0]))
    for page in pages:
        records += xp(page, "//o:record")
    titles = [r.xpath("o:metadata//dc:title/text()", namespaces=NS) for r in records]
    assert len(pages) == 3
    assert titles == [[f"Kitob R{n}"] if n != 4 else [] for n in range(1, 8)]  # R4 is a tombstone


def test_a_list_of_exactly_whole_pages_ends_on_its_last_page(store: MemoryStore):
    # each page asks the store for one record more than it shows: only that one says the list goes on
    ids, tokens = harvest(store, "ListIdentifiers", metadataPrefix="oai_dc", until="2026-01-01T08:06:00Z")
    assert ids == [ident(f"R{n}") for n in range(1, 7)]
    assert [(t.get("cursor"), t.get("completeListSize"), bool(t.text)) for t in tokens] == [
        ("0", "6", True),
        ("3", "6", False),  # OAI-PMH 3.5: the last page has an empty token, and no page follows it
    ]
    one = ask(store, verb="ListIdentifiers", metadataPrefix="oai_dc", until="2026-01-01T08:03:00Z")
    assert len(xp(one, "//o:header")) == 3 and not xp(one, "//o:resumptionToken")  # a one-page list: none


def test_each_page_reads_one_row_more_than_it_shows_and_list_identifiers_no_payload(store: MemoryStore):
    # a page that read the rest of the list would make a whole harvest quadratic in the list's length
    harvest(store, "ListIdentifiers", metadataPrefix="oai_dc")
    assert store.reads == [(4, 0), (4, 0), (1, 0)]
    store.reads.clear()
    harvest(store, "ListRecords", metadataPrefix="oai_dc")
    assert store.reads == [(4, 3), (4, 3), (1, 1)]  # R4, read by the first two, is a tombstone
    harvest(store, "ListSets")
    assert store.set_reads == [4, 2]


def test_the_window_closes_the_second_before_the_response_date(store: MemoryStore):
    store.add("LAST", NOW - timedelta(seconds=1))
    store.add("NEXT", NOW)
    ids, _ = harvest(store, "ListIdentifiers", metadataPrefix="oai_dc")
    assert ids[-1] == ident("LAST") and ident("NEXT") not in ids
    # the next harvest asks from this one's responseDate (OAI-PMH 3.3.1: inclusive) and gets the other
    later = ask(store, now=NOW + timedelta(hours=1), verb="ListIdentifiers", metadataPrefix="oai_dc",
                from_="2026-03-01T12:00:00Z")  # fmt: skip
    assert xp(later, "//o:header/o:identifier/text()") == [ident("NEXT")]


def test_list_identifiers_has_headers_only_and_the_tombstone(store: MemoryStore):
    doc = ask(store, verb="ListIdentifiers", metadataPrefix="oai_dc", from_="2026-01-01T08:04:00Z")
    assert xp(doc, "//o:header/o:identifier/text()") == [ident("R4"), ident("R5"), ident("R6")]
    assert xp(doc, "//o:header[@status='deleted']/o:identifier/text()") == [ident("R4")]
    assert not xp(doc, "//o:metadata")


def test_from_and_until_are_inclusive_and_sets_include_their_children(store: MemoryStore):
    ids, _ = harvest(store, "ListIdentifiers", metadataPrefix="oai_dc", from_="2026-01-01T08:02:00Z",
                     until="2026-01-01T08:03:00Z")  # fmt: skip
    assert ids == [ident("R2"), ident("R3")]
    ids, _ = harvest(store, "ListIdentifiers", metadataPrefix="oai_dc", set="fond")
    assert ids == [ident(f"R{n}") for n in range(1, 6)]  # fond:asosiy and fond:noyob, not fondx
    ids, _ = harvest(store, "ListIdentifiers", metadataPrefix="oai_dc", from_="2026-01-01")
    assert len(ids) == 7  # day granularity is accepted for from/until


def test_a_record_changed_during_a_harvest_does_not_shift_the_list(store: MemoryStore):
    first = ask(store, verb="ListIdentifiers", metadataPrefix="oai_dc")
    token = xp(first, "//o:resumptionToken/text()")[0]
    store.items[0] = replace(store.items[0], datestamp=NOW - timedelta(minutes=1))  # R1 changes: it moves last
    rest, tokens = harvest(store, "ListIdentifiers", resumptionToken=token)
    assert rest[:4] == [ident(f"R{n}") for n in range(4, 8)]  # keyset: nothing skipped, nothing repeated
    assert rest[4:] == [ident("R1")]  # and the change itself comes at the end
    # the list grew past the size counted at its start: completeListSize is never less than what was sent
    assert [(t.get("cursor"), t.get("completeListSize")) for t in tokens] == [("3", "7"), ("6", "8")]


def test_list_sets_pages_in_spec_order(store: MemoryStore):
    specs, tokens = harvest(store, "ListSets")
    assert specs == ["fond", "fond:asosiy", "fond:noyob", "fondx", "jurnal"]
    assert [t.get("completeListSize") for t in tokens] == ["5", "5"]


def test_list_sets_names_each_set_and_a_one_page_list_has_no_token(store: MemoryStore):
    doc = ask(store, replace(SETTINGS, page_size=5), verb="ListSets")
    named = [tuple(s.xpath("o:setSpec/text() | o:setName/text()", namespaces=NS)) for s in xp(doc, "//o:set")]
    assert named == [("fond", "Fond"), ("fond:asosiy", "Asosiy"), ("fond:noyob", "Noyob"), ("fondx", "X"),
                     ("jurnal", "Jurnallar")]  # fmt: skip
    assert not xp(doc, "//o:resumptionToken")


def test_a_repository_with_one_set_lists_it():
    one = MemoryStore()
    one.add_set("fond", "Fond")
    one.add("R1", T0, ("fond",))
    doc = ask(one, verb="ListSets")
    assert error(doc) is None and xp(doc, "//o:set/o:setSpec/text()") == ["fond"]


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "nowhere"}, "noRecordsMatch"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from_": "2027-01-01"}, "noRecordsMatch"),
        ({"verb": "ListRecords", "metadataPrefix": "marc21"}, "noRecordsMatch"),
        ({"verb": "ListRecords", "metadataPrefix": "mods"}, "cannotDisseminateFormat"),
        ({"verb": "ListRecords"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from_": "2026-01-01T08:00"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from_": "2026-02-01", "until": "2026-01-01"},
         "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from_": "2026-01-01", "until": "2026-02-01T00:00:00Z"},
         "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "colour": "blue"}, "badArgument"),
        ({"verb": "ListRecords", "resumptionToken": "not-a-token"}, "badResumptionToken"),
        ({"verb": "Identify", "metadataPrefix": "oai_dc"}, "badArgument"),
        ({"verb": "Frobnicate"}, "badVerb"),
        ({}, "badVerb"),
    ],
)  # fmt: skip
def test_list_and_request_errors(store: MemoryStore, args: dict[str, str], code: str):
    assert error(ask(store, **args)) == code


def test_no_sets_is_no_set_hierarchy():
    empty = MemoryStore()
    empty.add("R1", T0)
    assert error(ask(empty, verb="ListSets")) == "noSetHierarchy"
    assert error(ask(empty, verb="ListIdentifiers", metadataPrefix="oai_dc", set="fond")) == "noSetHierarchy"


def test_a_repeated_argument_is_bad_and_echoes_no_request_attributes(store: MemoryStore):
    pairs = [("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("metadataPrefix", "oai_dc")]
    doc = etree.fromstring(respond(pairs, store, SETTINGS, NOW))
    validate(doc)
    assert error(doc) == "badArgument"
    assert dict(xp(doc, "/o:OAI-PMH/o:request")[0].attrib) == {}  # OAI-PMH 3.2: no attributes on error


@pytest.mark.usefixtures("tashkent")
def test_the_http_servers_refusal_is_dated_in_utc():
    # the one answer that reads the clock itself (the others are dated by the stamp barrier's time)
    doc = etree.fromstring(refusal(BadVerb("the request line is too long"), SETTINGS))
    validate(doc)
    assert error(doc) == "badVerb" and dict(xp(doc, "/o:OAI-PMH/o:request")[0].attrib) == {}
    date = datetime.strptime(xp(doc, "/o:OAI-PMH/o:responseDate/text()")[0], "%Y-%m-%dT%H:%M:%SZ")
    assert abs(date - datetime.now(UTC).replace(tzinfo=None)) < timedelta(seconds=5)


def test_the_resumption_token_is_an_exclusive_argument_and_belongs_to_its_verb(store: MemoryStore):
    token = xp(ask(store, verb="ListRecords", metadataPrefix="oai_dc"), "//o:resumptionToken/text()")[0]
    # OAI-PMH 3.5: the token is exclusive
    assert error(ask(store, verb="ListRecords", resumptionToken=token, metadataPrefix="oai_dc")) == "badArgument"
    assert error(ask(store, verb="ListIdentifiers", resumptionToken=token)) == "badResumptionToken"
    other_key = replace(SETTINGS, secret_key="another repository")
    assert error(ask(store, other_key, verb="ListRecords", resumptionToken=token)) == "badResumptionToken"


@pytest.mark.usefixtures("tashkent")
def test_a_harvest_in_another_time_zone_keeps_its_window_and_expiry(store: MemoryStore):
    # the token carries the window and the expiry as epoch seconds of naive UTC datetimes
    store.add("LAST", NOW - timedelta(seconds=1))
    ids, tokens = harvest(store, "ListIdentifiers", metadataPrefix="oai_dc", from_="2026-01-01T08:02:00Z")
    assert ids == [ident(f"R{n}") for n in range(2, 8)] + [ident("LAST")]
    assert tokens[0].get("expirationDate") == "2026-03-03T12:00:00Z"  # NOW + 48 h


def test_a_failing_token_is_a_warning_in_the_log_and_other_errors_are_not(store: MemoryStore, caplog):  # noqa: ANN001
    # harvests run for days: a token chain that breaks must stand out among the everyday errors
    caplog.set_level(logging.INFO, logger="kutubxona.oai")
    ask(store, verb="ListRecords", resumptionToken="junk")
    ask(store, verb="ListRecords", metadataPrefix="oai_dc", set="nowhere")
    logged = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "kutubxona.oai"]
    assert logged == [
        (logging.WARNING, "badResumptionToken: the resumption token is not one this repository issued for this verb"),
        (logging.INFO, "noRecordsMatch: there is no set 'nowhere'"),
    ]


def test_a_token_expires(store: MemoryStore):
    doc = ask(store, verb="ListRecords", metadataPrefix="oai_dc")
    token = xp(doc, "//o:resumptionToken")[0]
    expiry = datetime.strptime(token.get("expirationDate"), "%Y-%m-%dT%H:%M:%SZ")
    assert expiry == NOW + timedelta(hours=SETTINGS.token_ttl_hours)
    assert error(ask(store, now=expiry - timedelta(seconds=1), verb="ListRecords", resumptionToken=token.text)) is None
    late = ask(store, now=expiry + timedelta(seconds=1), verb="ListRecords", resumptionToken=token.text)
    assert error(late) == "badResumptionToken"
