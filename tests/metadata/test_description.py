"""The description by search field, for MARC 21, UNIMARC (both linking techniques) and DC."""

from __future__ import annotations

from repository.metadata import dc as dcmod
from repository.metadata.description import describe, host_links
from repository.metadata.formats import prepare_dc, prepare_marc
from repository.metadata.identifiers import isbn_forms
from repository.metadata.marc import ControlField, DataField, MarcRecord


def f(tag: str, *subfields: tuple[str, str], ind: str = "  ") -> DataField:
    return DataField(tag, ind[0], ind[1], tuple(subfields))


def test_isbn_forms():
    assert isbn_forms("5-02-032945-X (pbk.)") == []  # bad check digit: not an ISBN
    assert isbn_forms("0-306-40615-2") == ["9780306406157", "0306406152"]
    assert isbn_forms("979-10-90636-07-1") == ["9791090636071"]  # 979: no ISBN-10


def test_marc21_fields():
    rec = MarcRecord("00000nam a2200000 i 4500", [
        ControlField("001", "X1"),
        ControlField("008", "230115s1999    uz            000 0 uzb d"),
        f("020", ("a", "0306406152")),
        f("041", ("a", "uzbrus")),
        f("080", ("a", "94(575.1)")),
        f("084", ("a", "63.3(5Узб)"), ("2", "rubbk")),
        f("090", ("a", "Т 65")),
        f("245", ("a", "Tarix /"), ("c", "muallif")),
        f("264", ("a", "Toshkent :"), ("b", "Fan,"), ("c", "1999"), ind=" 1"),
        f("490", ("a", "Ilmiy seriya"), ("v", "3")),
        f("500", ("a", "Izoh.")),
        f("650", ("a", "Oʻzbekiston"), ("x", "Tarix"), ("0", "http://id"), ind=" 4"),
        f("700", ("a", "Karimov, B."), ("t", "Asar nomi"), ind="1 "),
        f("773", ("t", "Jurnal"), ("x", "0378-5955"), ("g", "1999, 2"), ("w", "(UzNL)J1"), ind="0 "),
        f("856", ("u", "https://doi.org/10.1000/182"), ind="40"),
        f("856", ("u", "https://kutubxona.uz/fayl.pdf"), ind="40"),  # a link, but no DOI: not an identifier
    ])  # fmt: skip
    d = describe(prepare_marc(rec, "marc21"))
    assert d.fields["identifier"] == ["X1", "10.1000/182", "doi101000182"]
    assert d.year == 1999 and d.languages == ["uzb", "rus"]
    assert d.fields["isbn"] == ["9780306406157", "0306406152"]
    assert d.fields["udc"] == ["94(575.1)"] and d.fields["bbk"] == ["63.3(5Узб)"] and d.fields["callno"] == ["Т 65"]
    assert d.fields["series"] == ["Ilmiy seriya 3"] and d.fields["notes"] == ["Izoh."]
    assert d.subjects == ["Oʻzbekiston -- Tarix"]  # $0 is a link, not description
    assert "Asar nomi" in d.fields["title"] and d.fields["author"] == ["Karimov, B."]
    assert d.fields["publisher"] == ["Toshkent : Fan"]
    [host] = host_links(prepare_marc(rec, "marc21"))
    assert host.title == "Jurnal" and host.part == "1999, 2"
    assert host.keys == (("ctl", "UzNL|J1"), ("issn", "0378-5955"))


def test_unimarc_hosts_by_either_technique():
    standard = f("461", ("t", "Jurnal"), ("x", "0378-5955"), ("v", "№ 3"), ind=" 1")
    embedded = f("463", ("1", "001J7"), ("1", "2001 "), ("a", "Toʻplam"), ("1", "011  "), ("a", "0378-5955"))
    rec = MarcRecord("00000naa0 22000001i 450 ", [
        ControlField("001", "U1"),
        f("100", ("a", "20230115d2004    u  y0uzby50    ba")),
        f("200", ("a", "Maqola"), ("f", "B. Karimov"), ind="1 "),
        f("675", ("a", "821.512.133")),
        f("686", ("a", "83.3"), ("2", "rubbk")),
        standard,
        embedded,
        f("856", ("u", "http://dx.doi.org/10.5555/U1"), ind="4 "),
    ])  # fmt: skip
    prepared = prepare_marc(rec, "unimarc")
    d = describe(prepared)
    assert d.fields["identifier"] == ["U1", "10.5555/U1", "doi105555u1"]
    assert d.year == 2004 and d.fields["udc"] == ["821.512.133"] and d.fields["bbk"] == ["83.3"]
    first, second = host_links(prepared)
    assert first.title == "Jurnal" and first.part == "№ 3" and first.keys == (("issn", "0378-5955"),)
    assert second.title == "Toʻplam" and second.keys == (("ctl", "|J7"), ("issn", "0378-5955"))
    assert "Jurnal" in d.fields["journal"] and "Toʻplam" in d.fields["journal"]


def test_dublin_core():
    record = dcmod.DublinCore()
    record.add("title", "Maqola")
    record.add("type", "article")
    record.add("relation", "Ilm-fan jurnali")
    record.add("identifier", "ISBN 0-306-40615-2")
    record.add("identifier", "https://doi.org/10.5555/x")
    record.add("date", "2011-03-04")
    d = describe(prepare_dc(record))
    assert d.year == 2011 and d.fields["journal"] == ["Ilm-fan jurnali"]
    assert d.fields["isbn"] == ["9780306406157", "0306406152"]
    assert d.fields["identifier"] == ["https://doi.org/10.5555/x", "doi105555x"]  # the link, and its DOI whole
