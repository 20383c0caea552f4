"""MARC 21 and UNIMARC to Dublin Core; the stored payloads validate against their schemas."""

from __future__ import annotations

from repository.metadata import crosswalk
from repository.metadata.dc import to_oai_dc
from repository.metadata.formats import payload, prepare_marc, render
from repository.metadata.marc import ControlField, DataField, MarcRecord
from repository.metadata.marcxml import normalise
from tests.schemas import assert_valid


def f(tag: str, ind: str, *subs: tuple[str, str]) -> DataField:
    return DataField(tag, ind[0], ind[1], tuple(subs))


MARC21 = MarcRecord(
    "00000naa a2200000 i 4500",
    [
        ControlField("001", "ART1"),
        ControlField("008", "230115s2021    uz            000 0 uzb d"),
        f("020", "  ", ("a", "978-9943-00001-8 (pbk.)")),
        f("041", "0 ", ("a", "uzbrus")),
        f("100", "1 ", ("a", "Qodirov, Abdulla,"), ("d", "1894-1938.")),
        f("245", "10", ("a", "Oʻtgan kunlar :"), ("b", "roman /"), ("c", "A. Qodiriy.")),
        f("264", " 1", ("a", "Toshkent :"), ("b", "Gʻafur Gʻulom,"), ("c", "2021.")),
        f("502", "  ", ("a", "Dissertatsiya")),
        f("520", "  ", ("a", "Tarixiy roman.")),
        f("650", " 7", ("a", "Oʻzbek adabiyoti"), ("x", "Tarix")),
        f("700", "1 ", ("a", "Karimov, Bahodir.")),
        f("773", "0 ", ("t", "Axborot-kutubxona faoliyati"), ("x", "2181-9742"), ("g", "2021, № 2")),
        f("856", "40", ("u", "https://example.uz/a.pdf"), ("q", "application/pdf")),
    ],
)

UNIMARC = MarcRecord(
    "00000nam0 22000001i 450 ",
    [
        ControlField("001", "RU1"),
        f("010", "  ", ("a", "5-7390-0346-6")),
        f("011", "  ", ("a", "0869-608X")),
        f("100", "  ", ("a", "20230115d1997    u  y0rusy50      ca")),
        f("101", "0 ", ("a", "rus")),
        f("200", "1 ", ("a", "Уездное"), ("e", "повести"), ("f", "Е. Замятин")),
        f("210", "  ", ("a", "М."), ("c", "АСТ"), ("d", "1997")),
        f("328", " 0", ("b", "Дис.")),
        f("606", "  ", ("a", "Литература"), ("x", "История")),
        f("675", "  ", ("a", "821.161.1")),
        f("686", "  ", ("a", "84(2Рос=Рус)6"), ("2", "rubbk")),
        f("700", " 1", ("a", "Замятин"), ("b", "Е. И.")),
        f("702", " 1", ("a", "Иванов"), ("b", "П.")),
        f("463", " 1", ("1", "200 1"), ("a", "Собрание сочинений")),
    ],
)


def test_marc21_to_dc_follows_the_loc_crosswalk():
    dc = crosswalk.marc21_to_dc(MARC21)
    assert dc.get("title") == ["Oʻtgan kunlar : roman"]
    assert dc.get("creator") == ["Qodirov, Abdulla, 1894-1938", "Karimov, Bahodir"]
    assert dc.get("publisher") == ["Toshkent : Gʻafur Gʻulom"]
    assert dc.get("date") == ["2021"]
    assert "URN:ISBN:978-9943-00001-8" in dc.get("identifier")
    assert "https://example.uz/a.pdf" in dc.get("identifier")
    assert dc.get("language") == ["uzb", "rus"]
    assert dc.get("subject") == ["Oʻzbek adabiyoti--Tarix"]
    assert "Tarixiy roman" in dc.get("description")[-1]
    assert dc.get("relation") == ["Axborot-kutubxona faoliyati"]
    assert "text" in dc.get("type") and "thesis" in dc.get("type")
    assert dc.get("format") == ["application/pdf"]
    assert crosswalk.marc21_kind(MARC21) == "thesis"


def test_unimarc_to_dc_covers_the_unimarc_blocks():
    dc = crosswalk.unimarc_to_dc(UNIMARC)
    assert dc.get("title") == ["Уездное : повести"]
    assert dc.get("creator") == ["Замятин, Е. И."]
    assert dc.get("contributor") == ["Иванов, П."]
    assert dc.get("publisher") == ["АСТ"] and dc.get("date") == ["1997"]
    assert "URN:ISBN:5-7390-0346-6" in dc.get("identifier")
    assert "URN:ISSN:0869-608X" in dc.get("identifier")
    assert dc.get("language") == ["rus"]
    assert dc.get("subject") == ["Литература--История", "UDC 821.161.1", "BBK 84(2Рос=Рус)6"]
    assert dc.get("relation") == ["Собрание сочинений"]
    assert crosswalk.unimarc_kind(UNIMARC) == "thesis"


def test_kinds_from_the_leader():
    def kind(leader: str) -> str:
        return crosswalk.marc21_kind(MarcRecord(leader, []))

    assert kind("00000nam a2200000 i 4500") == "book"
    assert kind("00000nas a2200000 i 4500") == "serial"
    assert kind("00000naa a2200000 i 4500") == "article"
    assert kind("00000ntm a2200000 i 4500") == "manuscript"


def test_stored_payloads_validate_against_their_schemas():
    warnings: list[str] = []
    prepared = prepare_marc(normalise(MARC21, warnings), "marc21")
    payloads = render(prepared, "ART1", "http://kutubxona.test")
    assert_valid(payloads["oai_dc"], "oai_dc.xsd")
    assert payloads["marc21"] is None  # stored once, as the record's source
    assert_valid(payload(payloads["marc21"], prepared.source), "MARC21slim.xsd")
    assert b"http://kutubxona.test/records/ART1" in payloads["oai_dc"]
    uni = render(prepare_marc(normalise(UNIMARC, warnings), "unimarc"), "RU1", "http://kutubxona.test")
    assert_valid(uni["oai_dc"], "oai_dc.xsd")
    assert b'format="UNIMARC"' in uni["marcxchange"]


def test_bad_indicators_become_blanks_so_marcxml_stays_valid():
    warnings: list[str] = []
    rec = normalise(MarcRecord("01234nam  2200123 a 4500", [f("245", "|#", ("a", "T"))]), warnings)
    assert rec.fields[0].ind1 == " " and rec.fields[0].ind2 == " "
    assert rec.leader == "00000nam a2200000 a 4500"
    assert warnings
    prepared = prepare_marc(rec, "marc21")
    assert_valid(payload(render(prepared, "x", "http://h")["marc21"], prepared.source), "MARC21slim.xsd")


def test_xml_escaping_in_dc():
    from repository.metadata.dc import DublinCore

    dc = DublinCore()
    dc.add("title", 'A <b> & "c"', "uz")
    xml = to_oai_dc(dc).encode()
    assert b"A &lt;b&gt; &amp; &quot;c&quot;" in xml
    assert_valid(xml, "oai_dc.xsd")


# ------------------------------------------------------------------------------------------ DC to MARC 21


def test_dublin_core_to_marc21_follows_the_loc_crosswalk():
    from datetime import date, datetime

    from repository.metadata.dc import DublinCore
    from repository.metadata.marc import to_text

    dc = DublinCore()
    for element, value in (
        ("title", "Raqamli kutubxonalar"), ("title", "Digital libraries"), ("creator", "Karimov, Bahodir"),
        ("contributor", "Smith, John"), ("subject", "Kutubxonashunoslik"), ("description", "Maqola haqida."),
        ("publisher", "Fan"), ("date", "2021-03-15"), ("type", "Text"), ("type", "article"),
        ("format", "application/pdf"), ("identifier", "https://doi.org/10.5555/k.1"),
        ("identifier", "URN:ISSN:2181-9742"), ("identifier", "inv-77"), ("source", "Axborot jurnali"),
        ("language", "uzb"), ("language", "uz-Cyrl"), ("language", "oʻzbek tilida"),
        ("relation", "Axborot-kutubxona faoliyati"), ("relation", "https://example.uz/host"),
        ("coverage", "Toshkent"), ("rights", "CC BY 4.0"),
    ):  # fmt: skip
        dc.add(element, value)
    about = crosswalk.Conversion(
        control_number="K1", source_id="oai:test.kutubxona.uz:K1", entered=date(2024, 1, 2),
        changed=datetime(2024, 3, 4, 5, 6, 7), converted=date(2024, 5, 6), agency="UzNL", org_code="UzNL",
    )  # fmt: skip
    lines = to_text(crosswalk.dc_to_marc21(dc, about)).splitlines()
    assert lines == [
        "=LDR  00000naa a22000003u 4500",  # text, a component part; abbreviated level, form unknown
        "=001  K1",
        "=003  UzNL",
        "=005  20240304050607.0",
        "=008  240102s2021\\\\\\\\xx\\" + "|" * 17 + "uzb\\d",
        "=022  \\\\$a2181-9742",
        "=024  7\\$a10.5555/k.1$2doi",
        "=024  8\\$ainv-77",
        "=040  \\\\$aUzNL$cUzNL",
        "=041  0\\$auzb",
        "=041  07$auz-Cyrl$2rfc4646",
        "=042  \\\\$adc",
        "=245  00$aRaqamli kutubxonalar",
        "=246  33$aDigital libraries",
        "=260  \\\\$bFan$c2021-03-15",
        "=500  \\\\$aToshkent",
        "=520  \\\\$aMaqola haqida.",
        "=540  \\\\$aCC BY 4.0",
        "=546  \\\\$aoʻzbek tilida",
        "=653  \\\\$aKutubxonashunoslik",
        "=655  \\7$aText$2dct",
        "=655  \\7$aarticle$2local",
        "=720  \\\\$aKarimov, Bahodir$eauthor",
        "=720  \\\\$aSmith, John",
        "=786  0\\$nAxborot jurnali",
        "=787  0\\$nAxborot-kutubxona faoliyati",
        "=787  0\\$ohttps://example.uz/host",
        "=856  40$uhttps://doi.org/10.5555/k.1$qapplication/pdf",
        "=884  \\\\$aDublin Core to MARC 21 after the Library of Congress crosswalk$g2024-05-06"
        "$koai:test.kutubxona.uz:K1$qUzNL$uhttps://www.loc.gov/marc/dccross.html",
    ]


def test_dublin_core_to_marc21_without_an_organization_code_or_dates():
    from datetime import date, datetime

    from repository.metadata.dc import DublinCore

    dc = DublinCore()
    dc.add("title", "Kolleksiya")
    dc.add("type", "Collection")
    dc.add("format", "image/tiff")
    about = crosswalk.Conversion(
        control_number="https://example.uz/c/1", source_id="oai:test.kutubxona.uz:c1", entered=date(2024, 1, 2),
        changed=datetime(2024, 1, 2), converted=date(2024, 1, 2), agency="Kutubxona demo repository",
    )  # fmt: skip
    rec = crosswalk.dc_to_marc21(dc, about)
    assert rec.leader == "00000npc a22000003u 4500"  # DCMI Collection: leader/06 p, /07 c
    assert rec.control("003") is None  # 003 holds a MARC organization code only
    assert rec.control("008") == "240102nuuuuuuuuxx " + "|" * 17 + "|||\\d".replace("\\", " ")
    (f040,) = rec.datafields("040")
    assert f040.subfields == (("a", "Kutubxona demo repository"), ("c", "Kutubxona demo repository"))
    (f856,) = rec.datafields("856")
    assert (f856.ind1, f856.ind2, f856.subfields) == (" ", " ", (("q", "image/tiff"),))
    (f884,) = rec.datafields("884")
    assert "q" not in dict(f884.subfields)
