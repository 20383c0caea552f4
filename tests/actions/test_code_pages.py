"""The 8-bit code page of a file is decided from all its records, and the text comes back exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from repository.metadata.marc import ControlField, DataField, MarcRecord, parse_iso2709, split_iso2709, to_iso2709
from tests.conftest import Cli
from tests.helpers import import_json

UPPER = [
    "ИСТОРИЯ УЗБЕКИСТАНА", "ТОШКЕНТ ШАҲРИ ТАРИХИ", "РУССКО-УЗБЕКСКИЙ СЛОВАРЬ", "ОЧЕРКИ ПО ИСТОРИИ КУЛЬТУРЫ",
    "АДАБИЁТ ВА САНЪАТ", "СБОРНИК НАУЧНЫХ ТРУДОВ", "БИБЛИОТЕЧНОЕ ДЕЛО", "ЭКОНОМИКА СЕЛЬСКОГО ХОЗЯЙСТВА",
    "МАТЕРИАЛЫ КОНФЕРЕНЦИИ", "ХРЕСТОМАТИЯ ПО ЛИТЕРАТУРЕ",
]  # fmt: skip
SHORT = ["ФАН", "КИТОБ", "ТАРИХ", "ШЕЪР", "ДОСТОН", "МАҚОЛА", "ЖУРНАЛ", "ЛУҒАТ", "НАШР", "ТОМ"]
UZBEK = ["Ўзбек тили грамматикаси", "ЎЗБЕКИСТОН ТАРИХИ", "ўрта осиё халқлари", "Ўқув қўлланма"]
PAGES = ("cp1251", "koi8-r", "cp866", "iso8859-5")


def record(n: int, title: str) -> MarcRecord:
    return MarcRecord("00000nam  2200000 i 4500", [ControlField("001", f"E{n:03}"),
                      DataField("245", "1", "0", (("a", title),))])  # fmt: skip


def encodable(titles: list[str], page: str) -> list[str]:
    out = []
    for title in titles:
        try:
            title.encode(page)
        except UnicodeEncodeError:
            continue  # KOI8-R has no Ў, Қ, Ғ, Ҳ: such titles cannot be written in it
        out.append(title)
    return out


def import_titles(cli: Cli, path: Path, records: list[bytes]) -> tuple[dict, dict[str, str]]:
    path.write_bytes(b"".join(records))
    report = import_json(cli, path)[0]
    shown = {}
    for n in range(len(records)):
        shown[f"E{n:03}"] = json.loads(cli("show", f"E{n:03}", "--format", "json").stdout)["title"]
    return report, shown


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("titles", [UPPER, SHORT, UZBEK + UPPER], ids=["uppercase", "short-fields", "uzbek"])
def test_each_code_page_is_decided_for_the_file(cli: Cli, tmp_path: Path, page: str, titles: list[str]):
    titles = encodable(titles, page)
    records = [to_iso2709(record(n, t), page) for n, t in enumerate(titles)]
    report, shown = import_titles(cli, tmp_path / f"{page}.mrc", records)
    assert report["encoding"]["decided"] == page, report["encoding"]
    assert f"read as {page}" in report["encoding"]["why"]
    assert shown == {f"E{n:03}": t for n, t in enumerate(titles)}  # the same text, exactly
    assert not [p for p in report["problems"] if "code page" in p["reason"]]


def test_latin_records_with_cp1251_punctuation_are_not_marc8(cli: Cli, tmp_path: Path):
    titles = ["O'zbekiston «Fan» nashriyoti, №5", "«Sharq» matbaa konserni", "Jurnal №12, 1998", "Toshkent «Yangi asr»"]
    records = [to_iso2709(record(n, t), "cp1251") for n, t in enumerate(titles)]
    report, shown = import_titles(cli, tmp_path / "latin.mrc", records)
    assert report["encoding"]["decided"] == "cp1251"
    assert shown == {f"E{n:03}": t for n, t in enumerate(titles)}


def test_a_mixed_file_and_a_record_that_contradicts_the_file(cli: Cli, tmp_path: Path):
    upper = encodable(UPPER, "cp1251")
    records = [to_iso2709(record(n, t), "cp1251") for n, t in enumerate(upper)]
    records.append(to_iso2709(record(len(records), "Oʻzbekiston tarixi"), "utf-8"))  # UTF-8 says what it is
    records.append(to_iso2709(record(len(records), "Café society"), "marc-8"))  # MARC-8 by its bytes
    report, shown = import_titles(cli, tmp_path / "mixed.mrc", records)
    assert report["encoding"]["decided"] == "cp1251"
    n = len(upper)
    assert shown[f"E{n:03}"] == "Oʻzbekiston tarixi" and shown[f"E{n + 1:03}"] == "Café society"
    assert [shown[f"E{i:03}"] for i in range(n)] == upper
    (warning,) = [p for p in report["problems"] if p["position"] == n + 2 and p["outcome"] == "warning"]
    assert "MARC-8" in warning["reason"] and "cp1251" in warning["reason"]


def test_encoding_given_still_overrides(cli: Cli, tmp_path: Path):
    upper = encodable(UPPER, "koi8-r")
    records = [to_iso2709(record(n, t), "koi8-r") for n, t in enumerate(upper)]
    path = tmp_path / "given.mrc"
    path.write_bytes(b"".join(records))
    report = import_json(cli, "--encoding", "koi8-r", path)[0]
    assert "encoding" not in report
    assert report["created"] == len(upper)


def test_a_utf8_file_needs_no_decision(cli: Cli, tmp_path: Path):
    records = [to_iso2709(record(n, t), "utf-8") for n, t in enumerate(UPPER)]
    report, _ = import_titles(cli, tmp_path / "utf8.mrc", records)
    assert report["encoding"] == {"decided": None, "why": "every record is ASCII or UTF-8"}


def warnings_of(report: dict) -> dict[int, str]:
    return {p["position"]: p["reason"] for p in report["problems"] if p["outcome"] == "warning"}


def test_a_record_in_another_code_page_than_its_file_is_warned_with_its_own_reading(cli: Cli, tmp_path: Path):
    upper = encodable(UPPER, "cp1251")[:7]
    records = [to_iso2709(record(n, t), "cp1251") for n, t in enumerate(upper)]
    records.append(to_iso2709(record(7, "ОСНОВЫ ИНФОРМАТИКИ"), "koi8-r"))
    report, shown = import_titles(cli, tmp_path / "mixed.mrc", records)
    assert report["encoding"]["decided"] == "cp1251"
    assert [shown[f"E{n:03}"] for n in range(7)] == upper
    assert shown["E007"] == "пуопчщ йожптнбфйлй"  # read as the file says, and not silently:
    (warning,) = warnings_of(report).items()
    assert warning[0] == 8 and "reads as koi8-r" in warning[1] and "ОСНОВЫ ИНФОРМАТИКИ" in warning[1]
    assert "--encoding koi8-r" in warning[1]


def test_a_file_too_small_to_decide_says_so_and_reads_as_windows_1251(cli: Cli, tmp_path: Path):
    titles = [("История Узбекистана", "cp1251"), ("Русский язык", "cp1251"), ("Основы информатики", "koi8-r")]
    records = [to_iso2709(record(n, t), page) for n, (t, page) in enumerate(titles)]
    report, shown = import_titles(cli, tmp_path / "small.mrc", records)
    assert report["encoding"]["decided"] == "cp1251" and "too little text" in report["encoding"]["why"]
    assert (shown["E000"], shown["E001"]) == ("История Узбекистана", "Русский язык")
    (warning,) = warnings_of(report).items()
    assert warning[0] == 3 and "reads as koi8-r" in warning[1] and "Основы информатики" in warning[1]


@pytest.mark.parametrize("page", PAGES)
def test_no_record_of_a_file_in_one_code_page_is_warned(cli: Cli, tmp_path: Path, sample_dir: Path, page: str):
    """The sample's MARC 21 records (Uzbek in both scripts, Russian, English), written in one code page."""
    records = []
    with open(sample_dir / "asosiy-marc21-utf8.mrc", "rb") as sample:
        raws = list(split_iso2709(sample))
    for raw in raws:
        try:
            records.append(to_iso2709(parse_iso2709(raw.data).record, page))
        except (UnicodeEncodeError, ValueError):
            continue  # a character the code page lacks
    path = tmp_path / f"{page}.mrc"
    path.write_bytes(b"".join(records))
    report = import_json(cli, path)[0]
    assert report["encoding"]["decided"] == page and report["created"] == len(records) > 40
    assert not [r for r in warnings_of(report).values() if "reads as" in r]
