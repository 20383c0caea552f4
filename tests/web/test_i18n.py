"""The interface in four languages: complete catalogues, the choice of language, labels and <html lang>."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from lxml import html

from repository.web import i18n
from repository.web.i18n import LANGUAGES, SOURCE, compile_catalogues, language_of
from tests.conftest import Cli, serving
from tests.helpers import import_json, marc, write

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The messages of the views and templates, extracted as ``make messages`` does."""
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run([pybabel, "extract", "-F", "babel.cfg", "-k", "_l", "--no-location", "-o", pot, "."],
                   cwd=ROOT, check=True, capture_output=True)  # fmt: skip
    with pot.open("rb") as fh:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}


@pytest.mark.parametrize("language", LANGUAGES, ids=lambda lang: lang.locale)
def test_every_catalogue_translates_every_message(extracted: set[str], language):
    with (SOURCE / language.locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalogue = read_po(fh)
    translated = {}
    for m in catalogue:
        if m.id and not m.fuzzy:
            forms = m.string if isinstance(m.string, tuple) else (m.string,)
            translated[m.id if isinstance(m.id, str) else m.id[0]] = all(forms)
    missing = sorted(extracted - {k for k, done in translated.items() if done})
    assert not missing, f"{language.locale} misses {len(missing)}: {missing[:5]} (run make messages and translate)"
    assert len(extracted) > 60  # the extraction found the templates


def test_catalogues_compile_once_and_again_when_a_source_changes(tmp_path: Path):
    target = compile_catalogues(tmp_path)
    compiled = sorted(target.glob("*/LC_MESSAGES/messages.mo"))
    assert [p.parts[-3] for p in compiled] == sorted(lang.locale for lang in LANGUAGES)
    stamps = {p: p.stat().st_mtime_ns for p in compiled}
    compile_catalogues(tmp_path)
    assert {p: p.stat().st_mtime_ns for p in compiled} == stamps  # nothing changed: nothing written


@pytest.mark.parametrize(
    ("value", "locale"),
    [("uz", "uz_Latn"), ("uz-Cyrl", "uz_Cyrl"), ("uz-cyrl-UZ", "uz_Cyrl"), ("uz_Latn", "uz_Latn"),
     ("ru-RU", "ru"), ("en-GB", "en"), ("de", None), ("", None)],
)  # fmt: skip
def test_language_names(value: str, locale: str | None):
    found = language_of(value)
    assert (found.locale if found else None) == locale


def fetch(url: str, **headers: str) -> tuple[html.HtmlElement, str]:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as resp:
        return html.fromstring(resp.read()), resp.headers.get("Set-Cookie", "")


def test_the_language_comes_from_the_address_then_the_cookie_then_the_browser(cli: Cli, live: str, tmp_path: Path):
    import_json(cli, write(tmp_path / "a.mrc", marc("B1", "Kitob")))
    doc, _ = fetch(live + "/records/B1")
    assert doc.xpath("/html/@lang") == ["uz-Latn"] and "Sarlavha" in doc.xpath("//table//th/text()")
    doc, _ = fetch(live + "/records/B1", **{"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
    assert doc.xpath("/html/@lang") == ["ru"] and "Заглавие" in doc.xpath("//table//th/text()")
    doc, cookie = fetch(live + "/records/B1?lang=uz-Cyrl", **{"Accept-Language": "ru"})
    assert doc.xpath("/html/@lang") == ["uz-Cyrl"] and "Сарлавҳа" in doc.xpath("//table//th/text()")
    assert cookie.startswith("lang=uz_Cyrl")
    doc, _ = fetch(live + "/records/B1", Cookie="lang=en", **{"Accept-Language": "ru"})
    assert doc.xpath("/html/@lang") == ["en"] and "Title" in doc.xpath("//table//th/text()")


def test_the_switch_keeps_the_page_and_names_each_language_in_itself(cli: Cli, live: str, tmp_path: Path):
    import_json(cli, write(tmp_path / "a.mrc", marc("B1", "Kitob")))
    doc, _ = fetch(live + "/search?q=kitob&type=book&lang=ru")
    links = {a.text_content(): a.get("href") for a in doc.xpath("//nav[@class='langs']//a")}
    assert set(links) == {"Oʻzbekcha", "Ўзбекча", "Русский", "English"}
    assert links["English"] == "/search?q=kitob&type=book&lang=en"
    [current] = doc.xpath("//nav[@class='langs']//a[@aria-current]/text()")
    assert current == "Русский"


@pytest.mark.parametrize(("lang", "found"), [("uz_Latn", "1 ta yozuv topildi"), ("uz_Cyrl", "1 та ёзув топилди"),
                                             ("ru", "Найдена 1 запись"), ("en", "1 record found")])  # fmt: skip
def test_results_are_counted_in_each_language(cli: Cli, live: str, tmp_path: Path, lang: str, found: str):
    import_json(cli, write(tmp_path / "a.mrc", marc("B1", "Kitob")))
    doc, _ = fetch(live + f"/search?q=kitob&lang={lang}")
    assert [" ".join(p.text_content().split()) for p in doc.xpath("//p[@role='status']")] == [found]


def test_a_changed_catalogue_is_compiled_again_and_served(make_app, tmp_path: Path, monkeypatch):  # noqa: ANN001
    """The app compiles the catalogues into VAR_DIR when it starts, and again when a .po has changed since."""
    source = tmp_path / "translations"
    shutil.copytree(SOURCE, source)
    monkeypatch.setattr(i18n, "SOURCE", source)  # the catalogues of an install: here a copy to change
    with serving(make_app()) as url:
        doc, _ = fetch(url + "/?lang=en")
    assert doc.xpath("//form[@role='search']//button/text()") == ["Search"]
    po = source / "en" / "LC_MESSAGES" / "messages.po"
    text = po.read_text()
    assert '\nmsgid "Search"\nmsgstr "Search"\n' in text
    po.write_text(text.replace('\nmsgid "Search"\nmsgstr "Search"\n', '\nmsgid "Search"\nmsgstr "Find"\n'))
    later = time.time() + 5  # past the compiled file's time, whatever the clock's grain
    os.utime(po, (later, later))
    with serving(make_app()) as url:  # the next start, on the same VAR_DIR
        doc, _ = fetch(url + "/?lang=en")
    assert doc.xpath("//form[@role='search']//button/text()") == ["Find"]
