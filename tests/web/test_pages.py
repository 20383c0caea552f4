"""The home page and the record pages, served by a live server on a loopback port."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

from tests.helpers import import_json


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_home_lists_sets_and_records(cli, live: str, sample_dir: Path):
    cli("sets", "add", "fond:asosiy", "Asosiy fond", "--description", "MARC 21")
    import_json(cli, sample_dir / "asosiy-marc21-utf8.mrc", "--set", "fond:asosiy")
    status, html = get(live + "/")
    assert status == 200
    assert "fond:asosiy" in html and "Asosiy fond" in html and "226" in html
    assert "/records/" in html


def test_record_page_shows_the_description(cli, live: str, sample_dir: Path):
    import_json(cli, sample_dir / "uzmarc-unimarc-utf8.mrc")
    status, html = get(live + "/records/UZM000001")
    assert status == 200
    assert "oai:test.kutubxona.uz:UZM000001" in html
    assert "=200  1\\$a" in html  # the MARC, readable
    assert "dc:title" not in html and "Sarlavha" in html  # elements by their names in the interface language


def test_deleted_and_unknown_records(cli, live: str, sample_dir: Path):
    import_json(cli, sample_dir / "uzmarc-unimarc-utf8.mrc")
    cli("delete", "UZM000002")
    assert get(live + "/records/UZM000002")[0] == 410
    status, html = get(live + "/records/nope")
    assert status == 404 and "Traceback" not in html


def test_records_with_awkward_identifiers_have_pages(cli, live: str, sample_dir: Path, tmp_path: Path):
    from repository.metadata.identifiers import record_path
    from tests.helpers import marc, write

    import_json(cli, write(tmp_path / "a.mrc", marc("RU\\NLR\\bibl 1/2", "Slash and space")))
    status, html = get(live + record_path("RU\\NLR\\bibl 1/2"))
    assert status == 200 and "Slash and space" in html
