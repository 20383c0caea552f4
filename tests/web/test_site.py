"""The researcher's site over real HTTP: search with facets, the record page, citations, QR codes and
what crawlers read."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from pathlib import Path

import zxingcpp
from lxml import etree, html
from PIL import Image, ImageDraw

from repository.metadata.identifiers import record_path
from repository.metadata.marc import DataField
from tests.conftest import BASE_URL, Cli
from tests.helpers import import_json, marc, write


def get(url: str, **headers: str) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def page(url: str, **headers: str) -> html.HtmlElement:
    status, _, body = get(url, **headers)
    assert status == 200, body[:300]
    return html.fromstring(body)


def texts(doc: html.HtmlElement, xpath: str) -> list[str]:
    return [" ".join(e.text_content().split()) for e in doc.xpath(xpath)]


def catalogue(cli: Cli, tmp_path: Path) -> None:
    """A journal with two articles, two books (one per Uzbek script) and a Russian one."""
    records = [
        marc("J1", "Kutubxona dunyosi", DataField("022", " ", " ", (("a", "2181-9742"),)),
             leader="00000nas a2200000 i 4500"),
        marc("A1", "Navoiy dostonlari", DataField("100", "1", " ", (("a", "Karimov, Anvar"),)),
             DataField("773", "0", " ", (("t", "Kutubxona dunyosi"), ("w", "(UzNL)J1"),
                                         ("g", "2020, № 2, b. 10-20"))),
             DataField("650", " ", "7", (("a", "Adabiyot"),)),
             DataField("856", "4", "0", (("u", "https://doi.org/10.5555/kd.2020.2.10"),)),
             leader="00000naa a2200000 i 4500"),
        marc("A2", "Bobur sheʼriyati", DataField("773", "0", " ", (("w", "(UzNL)J1"), ("g", "2021, № 1"))),
             leader="00000naa a2200000 i 4500"),
        marc("B1", "Oʻzbekiston tarixi", DataField("100", "1", " ", (("a", "Qodirov, Abdulla"),)),
             DataField("020", " ", " ", (("a", "978-9943-01-234-9"),)),
             DataField("264", " ", "1", (("a", "Toshkent"), ("b", "Fan"), ("c", "2019"))),
             DataField("650", " ", "7", (("a", "Tarix"),))),
        marc("B2", "Ўзбекистон тарихи", DataField("100", "1", " ", (("a", "Қодиров, Абдулла"),))),
        marc("R1", "История Узбекистана", DataField("041", "0", " ", (("a", "rus"),))),
    ]  # fmt: skip
    import_json(cli, write(tmp_path / "c.mrc", *records))


def test_search_page_lists_hits_with_facets_that_combine_and_sorts(cli: Cli, live: str, tmp_path: Path):
    catalogue(cli, tmp_path)
    doc = page(live + "/search?q=tarix&lang=en")
    assert texts(doc, "//p[@role='status']") == ["2 records found"]
    assert sorted(texts(doc, "//ol[@class='hits']//h3")) == ["Oʻzbekiston tarixi", "Ўзбекистон тарихи"]
    marks = texts(doc, "//ol[@class='hits']//mark")
    assert "tarixi" in marks and "тарихи" in marks  # highlights in the record's own script
    # a facet link narrows, and the chosen facet is marked and can be removed
    [subject] = doc.xpath("//nav[@class='facets']//a[normalize-space()='Tarix']/@href")
    narrowed = page(live + subject)
    assert texts(narrowed, "//ol[@class='hits']//h3") == ["Oʻzbekiston tarixi"]
    assert narrowed.xpath("//nav[@class='facets']//a[@aria-current='true' and normalize-space()='Tarix']")
    [remove] = narrowed.xpath("//a[contains(@class, 'button') and contains(., 'Tarix')]/@href")
    assert "subject" not in remove
    # the language facet is ?language= on the pages (?lang= is the interface's)
    russian = page(live + "/search?q=&language=rus&lang=en")
    assert texts(russian, "//ol[@class='hits']//h3") == ["История Узбекистана"]
    assert texts(russian, "//a[contains(@class, 'button')]") == ["Language: Russian ✕"]
    newest = page(live + "/search?q=&sort=year&lang=en")
    assert texts(newest, "//ol[@class='hits']//h3")[0] == "Oʻzbekiston tarixi"  # the one record with a year
    assert newest.xpath("//select[@id='sort']/option[@selected]/@value") == ["year"]


def test_an_article_names_its_journal_and_the_journal_lists_its_articles(cli: Cli, live: str, tmp_path: Path):
    catalogue(cli, tmp_path)
    doc = page(live + "/search?q=navoiy&lang=en")
    [host] = texts(doc, "//ol[@class='hits']//div[starts-with(normalize-space(), 'In:')]")
    assert "Kutubxona dunyosi" in host and "№ 2" in host
    journal = page(live + "/records/J1?lang=en")
    parts = texts(journal, "//section[@aria-labelledby='parts']//li")
    assert len(parts) == 2 and any("Navoiy dostonlari" in p for p in parts)


def test_nothing_found_helps_and_a_bad_query_is_a_message(cli: Cli, live: str, tmp_path: Path):
    catalogue(cli, tmp_path)
    doc = page(live + "/search?q=tarxi&lang=en")
    assert "Nothing was found" in texts(doc, "//h2")
    suggested = doc.xpath("//a[normalize-space()='tarixi']/@href")  # "did you mean" and the hint below
    assert len(suggested) == 2 and all("q=tarixi" in href for href in suggested)
    hints = " ".join(texts(page(live + "/search?q=tarxi&lang=uz_Cyrl"), "//section//li"))
    assert "ISBN, ISSN ёки DOI ёзувни босилганидек топади" in hints  # how to paste an identifier, in Cyrillic too
    status, _, body = get(live + "/search?q=https://doi.org/10.9999/none&lang=en")  # a link is no field name
    assert status == 200 and "Nothing was found" in body.decode()
    status, _, body = get(live + "/search?q=nofield:x&lang=en")
    assert status == 400 and b"The query cannot be read" in body and b"Traceback" not in body
    assert html.fromstring(body).xpath("//main//h1/text()") == ["Search"]  # a page with no heading is lost
    # the reason is in the interface language too, not only in English
    status, _, body = get(live + "/search?q=nofield:x&lang=ru")
    assert status == 400 and "поля nofield нет; поля: title, author" in body.decode()
    status, _, body = get(live + "/search?q=year:abc&lang=uz_Cyrl")
    assert status == 400 and "year:abc: йилни (1995) ёки оралиқни" in body.decode()


def test_record_page_labels_the_description_in_the_interface_language(cli: Cli, live: str, tmp_path: Path):
    catalogue(cli, tmp_path)
    english = page(live + "/records/B1?lang=en")
    rows = dict(zip(texts(english, "//table//th"), texts(english, "//table//td"), strict=True))
    assert rows["Author"] == "Qodirov, Abdulla" and rows["Subject"] == "Tarix"
    assert not [th for th in rows if th.startswith("dc:")]
    russian = page(live + "/records/B1?lang=ru")
    assert "Автор" in texts(russian, "//table//th") and russian.xpath("/html/@lang") == ["ru"]
    more = {a.text_content(): a.get("href") for a in english.xpath("//section[@aria-labelledby='more']//a")}
    assert set(more) == {"More by Qodirov, Abdulla", "More on Tarix"}
    by_author = page(live + more["More by Qodirov, Abdulla"] + "&lang=en")  # both scripts of the name
    assert sorted(texts(by_author, "//ol[@class='hits']//h3")) == ["Oʻzbekiston tarixi", "Ўзбекистон тарихи"]
    [marc_view] = english.xpath("//details[summary='MARC view']/pre/text()")
    assert "=245  10$aOʻzbekiston tarixi" in marc_view.splitlines()


def test_record_page_carries_highwire_tags_json_ld_and_oai_links(cli: Cli, live: str, tmp_path: Path):
    catalogue(cli, tmp_path)
    doc = page(live + "/records/A1")
    meta = {m.get("name"): m.get("content") for m in doc.xpath("//meta[starts-with(@name, 'citation_')]")}
    assert meta["citation_title"] == "Navoiy dostonlari" and meta["citation_author"] == "Karimov, Anvar"
    assert meta["citation_journal_title"] == "Kutubxona dunyosi"
    assert meta["citation_firstpage"] == "10" and meta["citation_lastpage"] == "20" and meta["citation_issue"] == "2"
    assert meta["citation_doi"] == "10.5555/kd.2020.2.10"
    [ld] = doc.xpath("//script[@type='application/ld+json']/text()")
    data = json.loads(ld)
    assert data["@type"] == "ScholarlyArticle" and data["isPartOf"]["name"] == "Kutubxona dunyosi"
    assert data["url"] == BASE_URL + "/records/A1" and data["sameAs"] == "https://doi.org/10.5555/kd.2020.2.10"
    links = doc.xpath("//link[@rel='alternate']/@href")
    assert any("metadataPrefix=marc21" in h for h in links) and any("metadataPrefix=oai_dc" in h for h in links)
    assert doc.xpath("//link[@rel='canonical']/@href") == [BASE_URL + "/records/A1"]


def test_citations_of_a_record_and_of_a_result_page(cli: Cli, live: str, tmp_path: Path):
    catalogue(cli, tmp_path)
    status, headers, ris = get(live + "/records/A1/cite.ris")
    assert status == 200 and headers["Content-Type"].startswith("application/x-research-info-systems")
    lines = ris.decode().split("\r\n")
    assert lines[0] == "TY  - JOUR" and "AU  - Karimov, Anvar" in lines and "T2  - Kutubxona dunyosi" in lines
    assert "SP  - 10" in lines and "EP  - 20" in lines and lines[-2] == "ER  - "
    _, _, bib = get(live + "/records/B1/cite.bib")
    entry = bib.decode()
    assert entry.startswith("@book{B1,") and "isbn = {9789943012349}" in entry and "pages" not in entry
    _, _, csl = get(live + "/records/A1/cite.json")
    [item] = json.loads(csl)
    assert item["type"] == "article-journal" and item["author"] == [{"family": "Karimov", "given": "Anvar"}]
    assert item["container-title"] == "Kutubxona dunyosi" and item["page"] == "10-20"
    _, _, many = get(live + "/search/cite.ris?q=tarix")
    assert many.decode().count("ER  - ") == 2 and "ID  - B1" in many.decode()
    # an old link's unknown order falls back to relevance, as on the search page
    assert get(live + "/search/cite.ris?q=tarix&sort=nonsense")[2] == many
    status, _, _ = get(live + "/records/nope/cite.ris")
    assert status == 404


def test_marc_downloads(cli: Cli, live: str, tmp_path: Path):
    catalogue(cli, tmp_path)
    status, _, xml = get(live + "/records/B1/record.marcxml")
    root = etree.fromstring(xml)
    assert status == 200 and root.xpath("//*[local-name()='controlfield'][@tag='001']/text()") == ["B1"]
    status, _, iso = get(live + "/records/B1/record.iso2709")
    assert status == 200 and iso.endswith(b"\x1d") and int(iso[:5]) == len(iso)


def test_a_dublin_core_record_downloads_as_the_export_writes_it(cli: Cli, live: str, tmp_path: Path):
    dc = tmp_path / "dc.xml"
    dc.write_text(
        '<records><oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Raqamli kutubxonalar</dc:title>'
        "<dc:creator>Karimov, Anvar</dc:creator><dc:identifier>https://doi.org/10.5555/dc.1</dc:identifier>"
        "<dc:type>Text</dc:type></oai_dc:dc></records>",
        encoding="utf-8",
    )
    import_json(cli, dc)
    local = "https://doi.org/10.5555/dc.1"
    doc = page(live + record_path(local))
    links = doc.xpath("//aside//a[normalize-space()='MARCXML' or normalize-space()='ISO 2709']/@href")
    assert len(links) == 2  # offered as for any MARC record
    status, headers, xml = get(live + links[0])
    assert status == 200 and headers["Content-Type"].startswith("application/marcxml+xml")
    root = etree.fromstring(xml)
    assert root.xpath("//*[local-name()='datafield'][@tag='245']/*/text()") == ["Raqamli kutubxonalar"]
    assert root.xpath("//*[local-name()='datafield'][@tag='042']/*/text()") == ["dc"]
    status, _, iso = get(live + links[1])
    assert status == 200 and int(iso[:5]) == len(iso) and b"Karimov, Anvar" in iso
    exported = tmp_path / "all.mrc"
    cli("export", "--format", "iso2709", "--out", exported)
    assert exported.read_bytes() == iso  # the same record the monthly file holds
    shown = cli("show", local, "--format", "iso2709").stdout_bytes
    assert shown == iso
    assert '<subfield code="a">dc</subfield>' in cli("show", local, "--format", "marcxml").stdout


def test_the_qr_code_decodes_to_the_records_permanent_address(cli: Cli, live: str, tmp_path: Path):
    catalogue(cli, tmp_path)
    doc = page(live + "/records/B2")
    [src] = doc.xpath("//img[contains(@src, 'qr.svg')]/@src")
    status, headers, svg = get(live + src)
    assert status == 200 and headers["Content-Type"].startswith("image/svg+xml")
    [found] = zxingcpp.read_barcodes(rasterise(svg))
    assert found.text == BASE_URL + "/records/B2"


def rasterise(svg: bytes) -> Image.Image:
    """Draw the dark modules of a segno SVG (one path of ``M x y h n m dx dy`` moves, scaled) as pixels."""
    root = etree.fromstring(svg)
    [path] = root.xpath("//*[local-name()='path']")
    scale = float(re.search(r"scale\(([\d.]+)\)", path.get("transform")).group(1))
    size = int(float(root.get("width")))
    image = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(image)
    x = y = 0.0
    for command, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?:\s+(-?[\d.]+))?", path.get("d")):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        else:  # a horizontal run of dark modules on the row whose centre is y
            draw.rectangle([x * scale, (y - 0.5) * scale, (x + float(a)) * scale - 1, (y + 0.5) * scale - 1], fill=0)
            x += float(a)
    return image


def test_sitemaps_robots_and_opensearch(cli: Cli, live: str, tmp_path: Path):
    catalogue(cli, tmp_path)
    cli("delete", "R1")
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    index = etree.fromstring(get(live + "/sitemap.xml")[2])
    [first] = index.xpath("//s:sitemap/s:loc/text()", namespaces=ns)
    urls = etree.fromstring(get(live + first.replace(BASE_URL, ""))[2])
    locs = urls.xpath("//s:url/s:loc/text()", namespaces=ns)
    assert len(locs) == 5 and BASE_URL + "/records/B1" in locs and BASE_URL + "/records/R1" not in locs
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", t)
               for t in urls.xpath("//s:lastmod/text()", namespaces=ns))  # fmt: skip
    assert get(live + "/sitemap-2.xml")[0] == 404
    robots = get(live + "/robots.txt")[2].decode()
    assert f"Sitemap: {BASE_URL}/sitemap.xml" in robots
    described = etree.fromstring(get(live + "/opensearch.xml")[2])
    templates = described.xpath("//o:Url/@template", namespaces={"o": "http://a9.com/-/spec/opensearch/1.1/"})
    assert f"{BASE_URL}/search?q={{searchTerms}}&page={{startPage?}}" in templates
    home = page(live + "/")
    assert home.xpath("//link[@rel='search']/@href") == ["/opensearch.xml"]


def test_pages_answer_bad_addresses_without_a_traceback(cli: Cli, live: str, tmp_path: Path):
    catalogue(cli, tmp_path)
    for path in ("/search?page=abc&q=tarix", "/search?sort=nonsense&q=tarix", "/search?type=nope",
                 "/records/B1/cite.xyz", "/sitemap-0.xml", "/no/such/page?lang=ru"):  # fmt: skip
        status, _, body = get(live + path)
        assert status in (200, 400, 404) and b"Traceback" not in body, path
    cli("delete", "B2")
    status, _, body = get(live + "/records/B2?lang=en")
    assert status == 410 and b"This record was withdrawn" in body
    assert get(live + "/records/B2/cite.ris")[0] == 410


def test_a_collection_page_and_its_printable_qr_album(cli: Cli, live: str, tmp_path: Path):
    cli("sets", "add", "tarix", "Tarix fondi", "--description", "Oʻzbekiston tarixi boʻyicha kitoblar")
    cli("sets", "add", "tarix:eski", "Eski kitoblar")
    records = [marc("B1", "Oʻzbekiston tarixi"), marc("B2", "Ўзбекистон тарихи"), marc("B3", "Boshqa kitob")]
    import_json(cli, write(tmp_path / "a.mrc", *records[:1]), "--set", "tarix")
    import_json(cli, write(tmp_path / "b.mrc", *records[1:2]), "--set", "tarix:eski")  # a subset's item counts
    import_json(cli, write(tmp_path / "c.mrc", *records[2:]))
    home = page(live + "/?lang=en")
    [link] = home.xpath("//a[normalize-space()='Tarix fondi']/@href")
    collection = page(live + link + "?lang=en")
    assert texts(collection, "//h1") == ["Tarix fondi"]
    assert "Oʻzbekiston tarixi boʻyicha kitoblar" in collection.text_content()
    assert "2 records in the collection" in collection.text_content()
    assert texts(collection, "//main//ol/li/a") == ["Oʻzbekiston tarixi", "Ўзбекистон тарихи"]
    [album_link] = collection.xpath("//a[normalize-space()='QR album for printing']/@href")
    album = page(live + album_link)
    cards = album.xpath("//li[@class='card']")
    assert [c.xpath("string(.//h2)") for c in cards] == ["Oʻzbekiston tarixi", "Ўзбекистон тарихи"]
    decoded = [zxingcpp.read_barcodes(rasterise(etree.tostring(c.xpath(".//*[local-name()='svg']")[0])))[0].text
               for c in cards]  # fmt: skip
    assert decoded == [BASE_URL + "/records/B1", BASE_URL + "/records/B2"]
    assert b"@media print" in get(live + album_link)[2] and not album.xpath("//form[@role='search']")
    assert get(live + "/collections/nope")[0] == 404 and get(live + "/collections/nope/album")[0] == 404


def test_the_reader_shows_each_page_beside_its_text(cli: Cli, live: str, tmp_path: Path):
    import shutil

    from tests.conftest import require
    from tests.fulltext.pages import text_pdf

    require(shutil.which("pdftotext") is not None, "pdftotext")
    import_json(cli, write(tmp_path / "a.mrc", marc("B1", "Kitob")))
    book = tmp_path / "kitob.pdf"
    book.write_bytes(text_pdf([["Birinchi sahifa matni"], ["Ikkinchi sahifa matni"]]))
    cli("attach", "B1", book)
    secret = tmp_path / "yopiq.pdf"
    secret.write_bytes(text_pdf([["Maxfiy"]]))
    cli("attach", "B1", secret, "--access", "restricted")
    record = page(live + "/records/B1?lang=en")
    [read] = record.xpath("//a[normalize-space()='Read with its text']/@href")
    first = page(live + read + "?lang=en")
    assert "Birinchi sahifa matni" in texts(first, "//div[@class='text']")[0]
    assert first.xpath("//iframe/@src") == ["/records/B1/files/kitob.pdf#page=1"]
    size = book.stat().st_size
    assert f"({size} bytes)" in first.text_content() and first.xpath("//input[@id='q']/@value") == [""]
    assert re.search(r"\(\d+ байт", page(live + read + "?lang=ru").text_content())
    [following] = first.xpath("//a[@rel='next']/@href")
    second = page(live + following)
    assert "Ikkinchi sahifa matni" in texts(second, "//div[@class='text']")[0]
    assert second.xpath("//iframe/@src") == ["/records/B1/files/kitob.pdf#page=2"]
    assert get(live + "/records/B1/files/yopiq.pdf/read")[0] == 403
    assert get(live + "/records/B1/files/none.pdf/read")[0] == 404
    assert get(live + "/records/B1/files/kitob.pdf/read?page=2")[0] == 200  # the last page
    assert get(live + "/records/B1/files/kitob.pdf/read?page=3")[0] == 404  # past it
