"""Collections as virtual exhibitions: written with `kutubxona sets exhibit`, shown on the site, printed as a PDF."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
import zxingcpp
from babel.dates import format_datetime
from PIL import Image

from tests.conftest import BASE_URL, Cli, require
from tests.helpers import import_json, marc, write
from tests.web.test_site import get, page, texts

INTRODUCTION = "Alisher Navoiy asarlarining qoʻlyozmalari.\n\nIkkinchi xatboshi: toshbosma nashrlar.\n"


def cover_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (23, 90, 114)).save(out, format="PNG")
    return out.getvalue()


def exhibition(cli: Cli, tmp_path: Path) -> None:
    """Set ``navoiy`` with four records (one in a subset, one outside) and an exhibition of two of them."""
    cli("sets", "add", "navoiy", "Navoiy merosi")
    cli("sets", "add", "navoiy:toshbosma", "Toshbosma")
    import_json(cli, write(tmp_path / "a.mrc", marc("N1", "Xamsa"), marc("N2", "Lison ut-tayr"),
                           marc("N3", "Бадойиъ ул-бидоя")), "--set", "navoiy")  # fmt: skip
    import_json(cli, write(tmp_path / "b.mrc", marc("N4", "Mahbub ul-qulub")), "--set", "navoiy:toshbosma")
    import_json(cli, write(tmp_path / "c.mrc", marc("X1", "Boshqa kitob")))
    (tmp_path / "intro.txt").write_text(INTRODUCTION)
    (tmp_path / "cover.png").write_bytes(cover_png())
    (tmp_path / "items.txt").write_text("# tartib\nN4\tToshbosma nashr, 1880\n\nN2\n")
    result = cli("sets", "exhibit", "navoiy", "--introduction", tmp_path / "intro.txt",
                 "--cover", tmp_path / "cover.png", "--items", tmp_path / "items.txt", "--json")  # fmt: skip
    assert json.loads(result.output) == {"spec": "navoiy", "introduction": INTRODUCTION.strip(),
                                         "cover": "image/png", "items": ["N4", "N2"]}  # fmt: skip


def test_an_exhibition_shows_its_cover_introduction_and_curated_items_first(cli: Cli, live: str, tmp_path: Path):
    exhibition(cli, tmp_path)
    doc = page(live + "/collections/navoiy?lang=en")
    assert "Alisher Navoiy asarlarining qoʻlyozmalari." in texts(doc, "//main//p")
    assert "Ikkinchi xatboshi: toshbosma nashrlar." in texts(doc, "//main//p")  # one paragraph each
    # the curated items in their order with their captions, then the rest of the set by title
    assert texts(doc, "//ol[@class='items']/li/a") == ["Mahbub ul-qulub", "Lison ut-tayr", "Xamsa",
                                                         "Бадойиъ ул-бидоя"]  # fmt: skip
    assert texts(doc, "//ol[@class='items']/li[1]/span[@class='caption']") == ["Toshbosma nashr, 1880"]
    [src] = doc.xpath("//main//img[contains(@alt, 'Navoiy merosi')]/@src")
    status, headers, body = get(live + src)
    assert (status, headers["Content-Type"], body) == (200, "image/png", cover_png())
    assert get(live + src, **{"If-None-Match": headers["ETag"]})[0] == 304
    home = page(live + "/?lang=en")
    assert texts(home, "//section[@aria-labelledby='exhibitions']//a") == ["Navoiy merosi"]
    assert home.xpath("//section[@aria-labelledby='exhibitions']//img/@src") == [src]
    listed = {s["spec"]: s for s in json.loads(cli("sets", "list", "--json").output)}
    assert listed["navoiy"]["exhibit"] == ["N4", "N2"] and listed["navoiy:toshbosma"]["exhibit"] == []
    # the cover is one of the objects a copy of the store (a backup) takes
    cli("storage", "copy", "--to", (tmp_path / "copy").as_uri())
    assert cover_png() in [p.read_bytes() for p in (tmp_path / "copy").rglob("*") if p.is_file()]


def test_a_wrong_item_list_is_refused_whole_and_the_old_one_kept(cli: Cli, live: str, tmp_path: Path):
    exhibition(cli, tmp_path)
    cli("delete", "N3")
    (tmp_path / "bad.txt").write_text("N1\nX1\nnope\nN1\nN3\n")
    result = cli("sets", "exhibit", "navoiy", "--items", tmp_path / "bad.txt", code=2)
    message = result.output.strip()
    assert "\n" not in message and "line 2: X1 is not in set navoiy" in message
    assert "line 3: no record 'nope'" in message and "line 4: N1 is listed twice" in message
    assert "line 5: N3 is deleted" in message
    listed = {s["spec"]: s for s in json.loads(cli("sets", "list", "--json").output)}
    assert listed["navoiy"]["exhibit"] == ["N4", "N2"]
    (tmp_path / "not-an-image.png").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    result = cli("sets", "exhibit", "navoiy", "--cover", tmp_path / "not-an-image.png", code=2)
    assert "the cover must be a JPEG, PNG, WebP or GIF image, not application/xml" in result.output
    assert "no such set: nope" in cli("sets", "exhibit", "nope", "--clear", code=2).output
    cli("sets", "exhibit", "navoiy", "--clear")
    assert get(live + "/collections/navoiy/cover")[0] == 404
    assert not page(live + "/?lang=en").xpath("//section[@aria-labelledby='exhibitions']")
    doc = page(live + "/collections/navoiy?lang=en")
    assert texts(doc, "//ol[@class='items']/li/a") == ["Lison ut-tayr", "Mahbub ul-qulub", "Xamsa"]


def test_the_album_pdf_has_a_card_for_each_item_whose_code_leads_to_it(cli: Cli, live: str, tmp_path: Path):
    require(shutil.which("pdftoppm") is not None and shutil.which("pdftotext") is not None, "poppler-utils")
    exhibition(cli, tmp_path)
    album = page(live + "/collections/navoiy/album?lang=en")
    [link] = album.xpath("//a[normalize-space()='QR album as PDF']/@href")
    status, headers, pdf = get(live + link)
    assert status == 200 and headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"].startswith('attachment; filename="album-navoiy.pdf"')
    (tmp_path / "album.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", tmp_path / "album.pdf", "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    for title in ("Mahbub ul-qulub", "Lison ut-tayr", "Xamsa", "Бадойиъ ул-бидоя", "Navoiy merosi"):
        assert title in text  # Cyrillic too: the font holds both scripts
    subprocess.run(["pdftoppm", "-r", "150", "-png", tmp_path / "album.pdf", tmp_path / "sheet"], check=True)
    [sheet] = sorted(tmp_path.glob("sheet*.png"))  # four cards: one A4 sheet
    found = zxingcpp.read_barcodes(Image.open(sheet))
    # cards run left to right, top to bottom, in the exhibition's order
    found = sorted(found, key=lambda b: (round(b.position.top_left.y / 100), b.position.top_left.x))
    assert [b.text for b in found] == [f"{BASE_URL}/records/{n}" for n in ("N4", "N2", "N1", "N3")]


@pytest.mark.parametrize("lang", ["en", "ru", "uz_Cyrl", "uz_Latn"])
def test_the_last_change_is_written_the_way_the_interface_language_writes_dates(
    cli: Cli, live: str, tmp_path: Path, lang: str
):
    import_json(cli, write(tmp_path / "a.mrc", marc("B1", "Kitob")))
    [when] = page(live + f"/records/B1?lang={lang}").xpath("//table//time")
    stamp = datetime.fromisoformat(when.get("datetime").removesuffix("Z"))
    assert when.text_content() == format_datetime(stamp, "medium", locale=lang)
