"""The OAI-PMH endpoint over HTTP, item by item of ../shared/oai/CHECKLIST.md (numbers in the names)."""

from __future__ import annotations

import gzip
import re
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import select, update

from repository.catalogue.models import Record, RecordFormat
from repository.metadata.identifiers import oai_identifier
from tests.conftest import BASE_URL, REPO_ID, serving
from tests.helpers import age, import_json, marc, write
from tests.oai_client import OAI

SETS = {"fond": "Fond", "fond:asosiy": "Asosiy", "fond:uzmarc": "UZMARC", "fondx": "Not a child of fond"}


@pytest.fixture
def repo(cli, sample_dir: Path, services, tmp_path: Path):  # noqa: ANN001, ANN201
    """The sample's MARC 21 and UNIMARC files in sets, a record in ``fondx``, one tombstone; an hour old."""
    for spec, name in SETS.items():
        cli("sets", "add", spec, name, "--description", f"{name} — toʻplam")
    import_json(cli, sample_dir / "asosiy-marc21-utf8.mrc", "--set", "fond:asosiy")
    import_json(cli, sample_dir / "uzmarc-unimarc-utf8.mrc", "--set", "fond:uzmarc")
    import_json(cli, write(tmp_path / "x.mrc", marc("X1", "In fondx")), "--set", "fondx")
    cli("delete", "UZM000003")
    age(services)
    return services


@pytest.fixture
def oai(live: str, repo) -> OAI:  # noqa: ANN001
    return OAI(live)


def ident(local: str) -> str:
    return f"oai:{REPO_ID}:{local}"


# ------------------------------------------------------------------------------- A. transport


def test_01_06_07_identify_over_get_is_text_xml_and_errors_are_http_200(oai: OAI):
    reply = oai(verb="Identify")
    assert reply.status == 200 and reply.headers["Content-Type"] == "text/xml; charset=utf-8"
    error = oai(verb="nonsense")
    assert (error.status, error.error) == (200, "badVerb")
    assert error.headers["Content-Type"].startswith("text/xml")


def test_02_03_04_post_reads_the_body_only(oai: OAI):
    posted = oai.raw(data=b"verb=Identify")
    assert posted.xpath("//o:Identify") and posted.request_attrs == {"verb": "Identify"}
    record = oai.raw(data=f"verb=GetRecord&identifier={ident('KTB000001')}&metadataPrefix=oai_dc".encode())
    assert record.error is None and record.xpath("//o:GetRecord/o:record")
    both = oai.raw("verb=ListSets", data=b"verb=Identify")  # the query is ignored on POST
    assert both.xpath("//o:Identify")


def test_05_percent_encoding_and_plus(oai: OAI, cli, tmp_path: Path, services):
    import_json(cli, write(tmp_path / "s.mrc", marc("a b/c", "Space and slash")))
    age(services)
    identifier = oai_identifier(REPO_ID, "a b/c")
    assert identifier == f"oai:{REPO_ID}:a%20b/c"
    reply = oai.raw(f"verb=GetRecord&metadataPrefix=oai_dc&identifier={quote(identifier, safe='')}")
    assert reply.error is None and reply.request_attrs["identifier"] == identifier
    plus = oai.raw(f"verb=GetRecord&metadataPrefix=oai_dc&identifier={ident('KTB000001')}+")
    space = oai.raw(f"verb=GetRecord&metadataPrefix=oai_dc&identifier={ident('KTB000001')}%20")
    assert plus.error == space.error == "idDoesNotExist"
    assert plus.request_attrs == space.request_attrs  # "+" and "%20" are the same space


def test_08_overload_is_503_with_an_integer_retry_after(make_app, repo):  # noqa: ANN001
    app = make_app(OAI_MAX_CONCURRENT=1)
    with serving(app) as url:
        client = OAI(url)
        assert client(verb="ListIdentifiers", metadataPrefix="oai_dc").status == 200
        from repository.web.oai import _gate

        with app.app_context():
            gate = _gate()
        gate.acquire()  # one harvest in progress
        try:
            busy = client(verb="ListIdentifiers", metadataPrefix="oai_dc")
            assert busy.status == 503 and busy.headers["Retry-After"].isdigit()
            assert int(busy.headers["Retry-After"]) <= 3600
            assert client(verb="Identify").status == 200  # only lists are limited
        finally:
            gate.release()


def test_11_12_13_compression_only_when_asked(oai: OAI):
    plain = oai.raw("verb=Identify")
    assert "Content-Encoding" not in plain.headers
    assert [c.text for c in plain.xpath("//o:compression")] == ["gzip", "deflate"]  # never identity
    for coding in ("gzip", "deflate"):
        reply = oai.raw("verb=Identify", headers={"Accept-Encoding": coding})
        assert reply.headers["Content-Encoding"] == coding
        assert reply.body.split(b"<responseDate>")[0] == plain.body.split(b"<responseDate>")[0]
    refused = oai.raw("verb=Identify", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in refused.headers
    assert gzip.compress(b"") and refused.doc is not None


# ------------------------------------------------------------------------------- B, C, D. arguments, echo, errors


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("", "badVerb"),
        ("junk", "badVerb"),
        ("verb=identify", "badVerb"),
        ("verb=Identify&verb=Identify", "badVerb"),
        ("verb=Identify&test=test", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=oai_dc", "badArgument"),
        ("verb=ListRecords&metadataprefix=oai_dc", "badArgument"),
        ("verb=ListRecords", "badArgument"),
        ("verb=ListIdentifiers&resumptionToken=junk&until=2000-02-05", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&from=junk", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&until=2002-06-01T03:020:00Z", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&set=", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai+dc", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&set=a::b", "badArgument"),
    ],
)
def test_15_to_24_35_bad_verbs_and_arguments_echo_no_attributes(oai: OAI, query: str, code: str):
    reply = oai.raw(query)
    assert reply.error == code
    assert reply.request_attrs == {}  # 3.2: no attributes on badVerb/badArgument
    assert reply.text("/o:OAI-PMH/o:request") == BASE_URL + "/oai"
    assert reply.text("/o:OAI-PMH/o:error")  # 40: a human-readable message


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ({"verb": "GetRecord", "identifier": 'invalid"id', "metadataPrefix": "oai_dc"}, "idDoesNotExist"),  # 37, 47
        ({"verb": "GetRecord", "identifier": ident("nope"), "metadataPrefix": "oai_dc"}, "idDoesNotExist"),
        ({"verb": "GetRecord", "identifier": ident("KTB000001"), "metadataPrefix": "XXX"}, "cannotDisseminateFormat"),
        ({"verb": "GetRecord", "identifier": ident("KTB000001"), "metadataPrefix": "marcxchange"},
         "cannotDisseminateFormat"),  # a MARC 21 record has no MarcXchange form
        ({"verb": "ListRecords", "metadataPrefix": "XXX"}, "cannotDisseminateFormat"),  # 46
        ({"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "until": "2000-01-01"}, "noRecordsMatch"),  # 49
        ({"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "from": "2100-01-01"}, "noRecordsMatch"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "XXX"}, "noRecordsMatch"),
        ({"verb": "ListRecords", "resumptionToken": "junk"}, "badResumptionToken"),  # 44
        ({"verb": "ListMetadataFormats", "identifier": ident("nope")}, "idDoesNotExist"),
    ],
)  # fmt: skip
def test_36_37_43_to_49_other_errors_echo_the_request(oai: OAI, args: dict[str, str], code: str):
    reply = oai(**args)
    assert reply.error == code
    assert reply.request_attrs == args  # values unchanged, escaped (the " in invalid"id survives)


def test_49_empty_set_is_no_records_match(oai: OAI, cli):
    cli("sets", "add", "empty", "Nothing here")
    assert oai(verb="ListRecords", metadataPrefix="oai_dc", set="empty").error == "noRecordsMatch"


def test_51_no_set_hierarchy(live: str, cli, tmp_path: Path, services):
    import_json(cli, write(tmp_path / "a.mrc", marc("N1", "No sets here")))
    age(services)
    client = OAI(live)
    assert client(verb="ListSets").error == "noSetHierarchy"
    assert client(verb="ListRecords", metadataPrefix="oai_dc", set="a").error == "noSetHierarchy"


# ------------------------------------------------------------------------------- C. envelope


def test_29_to_34_envelope(oai: OAI):
    reply = oai(verb="ListMetadataFormats")
    root = reply.doc
    assert root.tag == "{http://www.openarchives.org/OAI/2.0/}OAI-PMH"
    location = root.get("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation")
    assert location == "http://www.openarchives.org/OAI/2.0/ http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
    date = reply.text("/o:OAI-PMH/o:responseDate")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", date)
    assert abs(datetime.strptime(date, "%Y-%m-%dT%H:%M:%SZ") - datetime.utcnow()) < timedelta(seconds=30)
    assert [etree_local(c) for c in root] == ["responseDate", "request", "ListMetadataFormats"]
    assert reply.request_attrs == {"verb": "ListMetadataFormats"}
    assert reply.body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')


def etree_local(el) -> str:  # noqa: ANN001
    return el.tag.split("}")[1]


def test_27_forbidden_characters_in_old_data_are_stripped(oai: OAI, repo):  # noqa: ANN001
    with repo.db.transaction() as s:
        rid = s.scalar(select(Record.id).where(Record.local_id == "KTB000002"))
        xml = s.scalar(select(RecordFormat.xml).where(RecordFormat.record_id == rid, RecordFormat.prefix == "oai_dc"))
        broken = xml.replace(b"<dc:title>", b"<dc:title>\x01\x0b\xef\xbf\xbf")
        s.execute(update(RecordFormat).where(RecordFormat.record_id == rid, RecordFormat.prefix == "oai_dc")
                  .values(xml=broken))  # fmt: skip
    reply = oai(verb="GetRecord", identifier=ident("KTB000002"), metadataPrefix="oai_dc")
    assert reply.error is None and b"\x01" not in reply.body


# ------------------------------------------------------------------------------- F. Identify


def test_65_to_70_identify(make_app, repo):  # noqa: ANN001
    app = make_app(OAI_FRIENDS="http://other.uz/oai https://third.uz/oai")
    with serving(app) as url:
        reply = OAI(url)(verb="Identify")
    assert reply.text("//o:repositoryName") == "Kutubxona demo repository"
    assert reply.text("//o:baseURL") == BASE_URL + "/oai"
    assert reply.text("//o:protocolVersion") == "2.0"
    assert reply.text("//o:deletedRecord") == "persistent"
    assert reply.text("//o:granularity") == "YYYY-MM-DDThh:mm:ssZ"
    with repo.db.reading() as s:
        earliest = min(s.scalars(select(Record.datestamp)))  # tombstones included
    assert reply.text("//o:earliestDatestamp") == earliest.strftime("%Y-%m-%dT%H:%M:%SZ")
    sample = reply.text("//id:sampleIdentifier")
    with serving(app) as url:
        assert OAI(url)(verb="GetRecord", identifier=sample, metadataPrefix="oai_dc").error is None  # 119
    friends = reply.xpath("//*[local-name()='friends']/*[local-name()='baseURL']/text()")
    assert friends == ["http://other.uz/oai", "https://third.uz/oai"]


def test_60_earliest_datestamp_counts_tombstones(oai: OAI, repo):  # noqa: ANN001
    with repo.db.transaction() as s:
        s.execute(update(Record).where(Record.local_id == "UZM000003").values(datestamp=datetime(2001, 2, 3, 4, 5, 6)))
    assert oai(verb="Identify").text("//o:earliestDatestamp") == "2001-02-03T04:05:06Z"


# ------------------------------------------------------------------------------- G. formats


def test_formats_per_item_and_for_a_tombstone(oai: OAI):
    all_formats = oai(verb="ListMetadataFormats").xpath("//o:metadataPrefix/text()")
    assert all_formats == ["oai_dc", "marc21", "marcxchange"]
    marc21 = oai(verb="ListMetadataFormats", identifier=ident("KTB000001")).xpath("//o:metadataPrefix/text()")
    assert marc21 == ["oai_dc", "marc21"]
    tomb = oai(verb="ListMetadataFormats", identifier=ident("UZM000003")).xpath("//o:metadataPrefix/text()")
    assert tomb == ["oai_dc", "marcxchange"]  # what it had


def test_payloads_in_every_format(oai: OAI):
    unimarc = oai(verb="GetRecord", identifier=ident("UZM000001"), metadataPrefix="marcxchange")
    assert unimarc.xpath("//mx:record/@format") == ["UNIMARC"]
    marc21 = oai(verb="GetRecord", identifier=ident("KTB000001"), metadataPrefix="marc21")
    assert marc21.xpath("//marc:controlfield[@tag='001']/text()") == ["KTB000001"]
    dc = oai(verb="GetRecord", identifier=ident("KTB000001"), metadataPrefix="oai_dc")
    assert f"{BASE_URL}/records/KTB000001" in dc.xpath("//dc:identifier/text()")  # 113: an http URL


# ------------------------------------------------------------------------------- E, H, I. windows, sets, deletions


def test_57_59_from_until_inclusive_at_both_granularities(oai: OAI):
    header = oai(verb="GetRecord", identifier=ident("KTB000005"), metadataPrefix="oai_dc")
    stamp = header.text("//o:header/o:datestamp")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp)
    ids, _ = oai.harvest("ListIdentifiers", metadataPrefix="oai_dc", from_=stamp, until=stamp)
    assert ident("KTB000005") in [h.findtext("{*}identifier") for h in ids]
    day = stamp[:10]
    ids, _ = oai.harvest("ListIdentifiers", metadataPrefix="oai_dc", from_=day, until=day)
    assert ident("KTB000005") in [h.findtext("{*}identifier") for h in ids]
    assert oai(verb="ListIdentifiers", metadataPrefix="oai_dc", from_="2000-01-01").error is None  # 61


def test_85_to_88_set_hierarchy_and_deleted_records_in_sets(oai: OAI):
    in_fond, _ = oai.harvest("ListIdentifiers", metadataPrefix="oai_dc", set="fond")
    ids = {h.findtext("{*}identifier") for h in in_fond}
    assert ident("KTB000001") in ids and ident("UZM000001") in ids  # inherited from fond:asosiy, fond:uzmarc
    assert ident("X1") not in ids  # fondx is not below fond
    specs = in_fond[0].xpath("o:setSpec/text()", namespaces={"o": "http://www.openarchives.org/OAI/2.0/"})
    assert specs == ["fond:asosiy"]  # minimal: fond is implied
    deleted = [h for h in in_fond if h.get("status") == "deleted"]
    assert [h.findtext("{*}identifier") for h in deleted] == [ident("UZM000003")]


def test_90_92_deleted_record_is_a_header_alone(oai: OAI):
    reply = oai(verb="GetRecord", identifier=ident("UZM000003"), metadataPrefix="oai_dc")
    assert reply.xpath("//o:header/@status") == ["deleted"]
    assert not reply.xpath("//o:metadata")
    records, _ = oai.harvest("ListRecords", metadataPrefix="marcxchange")
    tomb = [r for r in records if r.find("{*}header").get("status") == "deleted"]
    assert len(tomb) == 1 and tomb[0].find("{*}metadata") is None


# ------------------------------------------------------------------------------- J. flow control


def test_97_to_107_paging_with_tokens(make_app, repo):  # noqa: ANN001
    app = make_app(OAI_PAGE_SIZE=7)
    with serving(app) as url:
        client = OAI(url)
        records, pages = client.harvest("ListRecords", metadataPrefix="oai_dc")
        whole = client.harvest("ListIdentifiers", metadataPrefix="oai_dc")[0]
    ids = [r.find("{*}header").findtext("{*}identifier") for r in records]
    with repo.db.reading() as s:
        assert len(ids) == len(set(ids)) == s.query(Record).count() == len(whole)  # 107: no gaps, no duplicates
    size = len(ids)
    for n, page in enumerate(pages):
        token = page.token
        assert token is not None
        assert token.get("cursor") == str(7 * n)  # 101
        assert token.get("completeListSize") == str(size)  # 102
        assert len(page.xpath("//o:record")) == (7 if n < len(pages) - 1 else size - 7 * (len(pages) - 1))
        if n < len(pages) - 1:
            assert re.fullmatch(r"[A-Za-z0-9._~-]+", token.text)  # 100
            expires = datetime.strptime(token.get("expirationDate"), "%Y-%m-%dT%H:%M:%SZ")
            assert expires - datetime.utcnow() > timedelta(hours=47, minutes=59)  # TTL 48 h
        else:
            assert not (token.text or "").strip()  # 97: the last page has an empty token


def test_98_one_page_list_has_no_token(oai: OAI):
    reply = oai(verb="ListRecords", metadataPrefix="oai_dc", set="fondx")
    assert len(reply.xpath("//o:record")) == 1 and reply.token is None


def test_105_139_reissued_token_gives_the_same_bytes(make_app, repo):  # noqa: ANN001
    app = make_app(OAI_PAGE_SIZE=7)
    with serving(app) as url:
        client = OAI(url)
        token = client(verb="ListRecords", metadataPrefix="marc21").token.text
        first = client(verb="ListRecords", resumptionToken=token).body
        again = client(verb="ListRecords", resumptionToken=token).body
    strip = re.compile(rb"<responseDate>[^<]*</responseDate>")
    assert strip.sub(b"", first) == strip.sub(b"", again)


def test_134_tokens_survive_a_restart(make_app, repo):  # noqa: ANN001
    with serving(make_app(OAI_PAGE_SIZE=7)) as url:
        token = OAI(url)(verb="ListIdentifiers", metadataPrefix="oai_dc").token.text
    with serving(make_app(OAI_PAGE_SIZE=7)) as url:  # a new process would build exactly this app
        reply = OAI(url)(verb="ListIdentifiers", resumptionToken=token)
    assert reply.error is None and reply.token.get("cursor") == "7"


def test_44_token_on_the_wrong_verb_and_expired_token(make_app, repo, monkeypatch):  # noqa: ANN001
    app = make_app(OAI_PAGE_SIZE=3, OAI_TOKEN_TTL_HOURS=1)  # 4 sets: ListSets has a second page too
    with serving(app) as url:
        client = OAI(url)
        sets_token = client(verb="ListSets").token.text
        records_token = client(verb="ListRecords", metadataPrefix="oai_dc").token.text
        assert client(verb="ListIdentifiers", resumptionToken=records_token).error == "badResumptionToken"
        assert client(verb="ListRecords", resumptionToken=sets_token).error == "badResumptionToken"
        assert client(verb="ListSets", resumptionToken=records_token).error == "badResumptionToken"
        stamps = app.extensions["kutubxona"].stamps
        real = stamps.barrier  # the clock an OAI answer reads: two hours on, past the one-hour chain
        monkeypatch.setattr(stamps, "barrier", lambda session: real(session) + timedelta(hours=2))
        expired = client(verb="ListRecords", resumptionToken=records_token)
        assert expired.error == "badResumptionToken" and "expired" in expired.text("//o:error")


def test_109_list_sets_pages(make_app, repo):  # noqa: ANN001
    with serving(make_app(OAI_PAGE_SIZE=2)) as url:
        sets, pages = OAI(url).harvest("ListSets")
    specs = [s.findtext("{*}setSpec") for s in sets]
    assert specs == sorted(SETS) and len(pages) == 2
    assert sets[0].xpath(".//*[local-name()='description']/text()") == ["Fond — toʻplam"]


def test_133_records_changed_during_a_harvest_wait_for_the_next_one(make_app, repo, cli, tmp_path):  # noqa: ANN001
    with serving(make_app(OAI_PAGE_SIZE=7)) as url:
        client = OAI(url)
        first = client(verb="ListIdentifiers", metadataPrefix="oai_dc")
        response_date = first.text("//o:responseDate")
        import_json(cli, write(tmp_path / "new.mrc", marc("NEW1", "Arrived mid-harvest")))
        rest, _ = client.harvest("ListIdentifiers", resumptionToken=first.token.text)
        seen = {h.findtext("{*}identifier") for h in first.xpath("//o:header") + rest}
        assert ident("NEW1") not in seen  # the window was frozen at the first request
        # the next incremental harvest, from the previous responseDate, brings it once its second is over
        import time

        time.sleep(1.1)
        later, _ = client.harvest("ListIdentifiers", metadataPrefix="oai_dc", from_=response_date)
        assert ident("NEW1") in {h.findtext("{*}identifier") for h in later}
