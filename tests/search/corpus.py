"""A small catalogue whose every record exercises one part of the description or of the folding."""

from __future__ import annotations

import json
from pathlib import Path

from repository.metadata.marc import ControlField, DataField
from tests.conftest import Cli
from tests.helpers import marc, write


def field(tag: str, *subfields: tuple[str, str], ind: str = "  ") -> DataField:
    return DataField(tag, ind[0], ind[1], tuple(subfields))


def f008(year: int, lang: str) -> ControlField:
    return ControlField("008", f"230115s{year}    uz            000 0 {lang} d")


def records(tmp_path: Path) -> Path:
    """S1-S7 books, H1 a serial and A1 an article of it that names it only by control number."""
    return write(
        tmp_path / "corpus.mrc",
        marc("S1", "Oʻzbekiston tarixi", f008(1995, "uzb"), field("100", ("a", "Qodiriy, Abdulla"), ind="1 "),
             field("020", ("a", "0-306-40615-2")), field("260", ("a", "Toshkent"), ("b", "Fan"))),
        marc("S2", "Ўзбек тили грамматикаси", f008(2001, "uzb"), field("080", ("a", "811.512.133")),
             field("084", ("a", "81.2Узб"), ("2", "rubbk")), field("490", ("a", "Tilshunoslik seriyasi"))),
        marc("S3", "История Узбекистана", f008(1985, "rus"), field("650", ("a", "Библиотеки"), ("x", "История")),
             field("260", ("a", "Москва"), ("b", "Наука"))),
        marc("S4", "Kutubxonalar ishi", f008(2010, "uzb"), field("650", ("a", "Kutubxonachilik"), ind=" 4"),
             field("090", ("a", "Z665"), ("b", ".K88")), field("500", ("a", "Toshkent viloyati uchun qoʻllanma"))),
        marc("S5", "Gʻalaba kuni", f008(2005, "uzb")),
        marc("S6", "Библиотека и читатель", f008(1979, "rus")),
        marc("S7", "Library science", f008(2015, "eng"), field("020", ("a", "9780306406157 (pbk.)")),
             field("856", ("u", "https://doi.org/10.5555%2FLIB-2015"), ind="40")),
        marc("H1", "Ilm-fan jurnali", f008(2001, "uzb"), field("022", ("a", "0378-5955")),
             leader="00000nas a2200000 i 4500"),
        marc("A1", "Qoraqalpoq dostonlari", f008(2020, "uzb"),
             field("773", ("w", "(UzNL)H1"), ("g", "2020, № 2, b. 5-10"), ind="0 "),
             field("024", ("a", "10.1234/ilm.2020.2.5"), ("2", "doi"), ind="7 "),
             leader="00000naa a2200000 i 4500"),
    )  # fmt: skip


def search(cli: Cli, *query: str, code: int = 0) -> dict:
    """``kutubxona search --json``: the one object it prints."""
    return json.loads(cli("search", "--json", *query, code=code).stdout)


def ids(cli: Cli, *query: str) -> list[str]:
    """The ids of the hits of a query, in the order given."""
    return [h["id"] for h in search(cli, "--limit", "100", *query)["hits"]]
