"""The site in a real headless browser (Debian's chromium and chromium-driver, driven by Selenium):
a reader's way through it, every language, the keyboard, a phone's width, and axe-core's WCAG 2.1 A
and AA rules on each page kind, every finding whatever its impact.  Screenshots of each page kind are
saved for a person to look at, in ``$KUTUBXONA_TEST_OUTPUT/screenshots`` (default ``var/test-output``)."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from repository.metadata.marc import DataField
from tests.conftest import Cli, require
from tests.fulltext.pages import text_pdf
from tests.helpers import import_json, marc, write
from tests.web.test_exhibitions import cover_png

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = Path(os.environ.get("KUTUBXONA_TEST_OUTPUT", ROOT / "var" / "test-output")) / "screenshots"
PHONE = (360, 740)
DESKTOP = (1280, 900)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """Headless chromium (a fresh profile) that downloads files into a folder of its own."""
    driver_path = shutil.which("chromedriver")
    require(driver_path is not None and shutil.which("chromium") is not None, "chromium and chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--lang=en"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads), "download.prompt_for_download": False,
        "plugins.always_open_pdf_externally": True,  # a PDF link downloads rather than opening the viewer
    })  # fmt: skip
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_window_size(*DESKTOP)
    driver.implicitly_wait(10)  # a find waits for the page a click or Enter has just asked for
    driver.downloads = downloads
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def site(cli: Cli, live: str, tmp_path: Path) -> str:
    """A small catalogue with a journal, an article, books in both scripts and an open PDF."""
    records = [
        marc("J1", "Kutubxona dunyosi", leader="00000nas a2200000 i 4500"),
        marc("A1", "Navoiy dostonlari", DataField("100", "1", " ", (("a", "Karimov, Anvar"),)),
             DataField("773", "0", " ", (("w", "(UzNL)J1"), ("g", "2020, № 2, b. 10-20"))),
             DataField("650", " ", "7", (("a", "Adabiyot"),)), leader="00000naa a2200000 i 4500"),
        marc("B1", "Oʻzbekiston tarixi", DataField("100", "1", " ", (("a", "Qodirov, Abdulla"),)),
             DataField("650", " ", "7", (("a", "Tarix"),))),
        marc("B2", "Ўзбекистон тарихи", DataField("650", " ", "7", (("a", "Тарих"),))),
    ]  # fmt: skip
    cli("sets", "add", "fond", "Asosiy fond", "--description", "Kitoblar va jurnallar")
    import_json(cli, write(tmp_path / "c.mrc", *records), "--set", "fond")
    pdf = tmp_path / "tarix.pdf"
    pdf.write_bytes(text_pdf([["Oʻzbekiston tarixi, birinchi sahifa"]]))
    cli("attach", "B1", pdf)
    # the collection is an exhibition too, so that its cover, introduction and captions are checked
    (tmp_path / "intro.txt").write_text("Kutubxona fondidan tanlangan kitoblar.\n\nIkkinchi xatboshi.")
    (tmp_path / "items.txt").write_text("B2\tKirill yozuvidagi nashr\nB1\n")
    (tmp_path / "cover.png").write_bytes(cover_png())
    cli("sets", "exhibit", "fond", "--introduction", tmp_path / "intro.txt", "--items", tmp_path / "items.txt",
        "--cover", tmp_path / "cover.png")  # fmt: skip
    import_json(cli, write(tmp_path / "d.mrc", marc("D1", "Eski nashr")))
    cli("delete", "D1")  # its page is a tombstone
    return live


def shot(driver, name: str) -> None:  # noqa: ANN001
    """Save a screenshot of the page for a person to look at."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(OUTPUT / f"{name}.png"))


def open_page(driver, url: str) -> None:  # noqa: ANN001
    driver.get(url)
    assert "Traceback" not in driver.page_source


def test_a_reader_searches_narrows_opens_a_record_and_downloads_its_file(browser, site: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    open_page(browser, site + "/?lang=en")
    box = browser.find_element(By.ID, "q")
    box.send_keys("tarix", Keys.ENTER)
    assert browser.find_element(By.CSS_SELECTOR, "p[role=status]").text == "2 records found"
    browser.find_element(By.LINK_TEXT, "Tarix").click()  # the subject facet
    hits = browser.find_elements(By.CSS_SELECTOR, "ol.hits h3")
    assert [h.text for h in hits] == ["Oʻzbekiston tarixi"]
    hits[0].find_element(By.TAG_NAME, "a").click()
    assert browser.find_element(By.TAG_NAME, "h1").text == "Oʻzbekiston tarixi"
    browser.find_element(By.LINK_TEXT, "tarix.pdf").click()
    downloaded = browser.downloads / "tarix.pdf"
    for _ in range(50):
        if downloaded.exists() and downloaded.stat().st_size:
            break
        time.sleep(0.1)
    assert downloaded.read_bytes().startswith(b"%PDF")


def test_each_language_switch_keeps_the_page(browser, site: str):
    from selenium.webdriver.common.by import By

    open_page(browser, site + "/records/B1?lang=en")
    seen = {}
    for name, tag, label in (("Ўзбекча", "uz-Cyrl", "Сарлавҳа"), ("Русский", "ru", "Заглавие"),
                             ("English", "en", "Title"), ("Oʻzbekcha", "uz-Latn", "Sarlavha")):  # fmt: skip
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") != tag
        browser.find_element(By.LINK_TEXT, name).click()
        assert browser.current_url.startswith(site + "/records/B1")
        seen[tag] = browser.find_element(By.TAG_NAME, "html").get_attribute("lang")
        assert label in [th.text for th in browser.find_elements(By.CSS_SELECTOR, "table th")]
    assert all(lang == tag for tag, lang in seen.items()) and len(seen) == 4
    open_page(browser, site + "/")  # the cookie remembers the last choice
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "uz-Latn"


def test_the_keyboard_reaches_the_content_first(browser, site: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    open_page(browser, site + "/search?q=tarix&lang=en")
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    first = browser.switch_to.active_element
    assert first.text == "Skip to content" and first.is_displayed()  # visible once focused
    first.send_keys(Keys.ENTER)
    assert browser.current_url.endswith("#main")


PAGE_KINDS = {
    "home": "/",
    "search": "/search?q=tarix",
    "search-empty": "/search?q=tarxi",
    "search-narrowed": "/search?q=tarix&subject=Tarix&sort=year",
    "search-error": "/search?q=nofield:tarix",
    "record": "/records/B1",
    "article": "/records/A1",
    "journal": "/records/J1",
    "not-found": "/records/nope",
    "deleted": "/records/D1",
    "collection": "/collections/fond",
    "album": "/collections/fond/album",
    "reader": "/records/B1/files/tarix.pdf/read",
}


@pytest.mark.parametrize("kind", PAGE_KINDS)
def test_each_page_kind_passes_axe_and_fits_a_phone(browser, site: str, kind: str):
    from selenium_axe_python import Axe

    for lang in ("uz_Latn", "ru"):
        browser.set_window_size(*DESKTOP)
        open_page(browser, f"{site}{PAGE_KINDS[kind]}{'&' if '?' in PAGE_KINDS[kind] else '?'}lang={lang}")
        shot(browser, f"{kind}-{lang}")
        axe = Axe(browser)
        axe.inject()
        found = axe.run(options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
        assert not found["violations"], f"{kind} ({lang}): " + axe.report(found["violations"])  # every impact
        browser.set_window_size(*PHONE)
        wide = browser.execute_script("return document.documentElement.scrollWidth")
        shot(browser, f"{kind}-{lang}-phone")
        assert wide <= browser.execute_script("return window.innerWidth"), f"{kind} scrolls sideways on a phone"
    browser.set_window_size(*DESKTOP)


def test_the_album_prints_one_card_per_item(browser, site: str):
    import base64
    import subprocess

    require(shutil.which("pdftotext") is not None, "pdftotext")
    open_page(browser, site + "/collections/fond/album?lang=en")
    pdf = base64.b64decode(browser.print_page())  # what the browser's print dialog would print
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / "album-print.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    for title in ("Kutubxona dunyosi", "Navoiy dostonlari", "Oʻzbekiston tarixi", "Ўзбекистон тарихи"):
        assert title in text
    assert "Print this page" not in text and "Asosiy fond" in text  # the screen's hints are not printed
