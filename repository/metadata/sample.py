"""The sample collection Kutubxona makes itself: a few hundred varied records in every syntax we read.

Books, serials, journal articles linked to their host serial (773), manuscripts and theses; titles
and names in Uzbek Latin, Uzbek Cyrillic, Russian and English; MARC 21 in UTF-8 and in MARC-8,
UNIMARC in UTF-8 (as UZMARC) and in Windows-1251 with a blank leader/09 (as CIS systems export
it), and Dublin Core.  Deterministic: the same files every time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from repository.metadata import dc as dcmod
from repository.metadata.marc import ControlField, DataField, MarcRecord, to_iso2709

ORG = "UzNL"

SETS: dict[str, tuple[str, str]] = {
    "fond": ("Fond / Фонд / Holdings", "The library's catalogue"),
    "fond:asosiy": ("Asosiy fond (MARC 21)", "Books, serials, articles, theses and manuscripts in MARC 21"),
    "fond:xorijiy": ("Xorijiy adabiyot (MARC-8)", "Foreign books received as MARC-8 records"),
    "fond:uzmarc": ("UZMARC", "UNIMARC records in Uzbek, Latin and Cyrillic script"),
    "fond:rusmarc": ("RUSMARC (Windows-1251)", "UNIMARC records exported by a CIS library system"),
    "maqolalar": ("Maqolalar / Статьи / Articles", "Dublin Core descriptions of journal articles"),
}
BOOKS_PER_LANGUAGE, THESES_PER_LANGUAGE, MANUSCRIPTS = 35, 4, 6
_FIRST_MANUSCRIPT = 4 * (BOOKS_PER_LANGUAGE + THESES_PER_LANGUAGE)  # after the books and theses in four languages
# the manuscripts of the main holdings, shown as a virtual exhibition: (set, introduction, [(id, caption)])
EXHIBITION = (
    "fond:asosiy",
    "XVIII asr qoʻlyozmalari: asosiy fonddan tanlangan nusxalar.\n\n"
    "Har bir qoʻlyozmaning tavsifi, fond raqami va QR kodi bor; QR albomni chop etib, "
    "koʻrgazma javonlariga qoʻyish mumkin.",
    [(f"KTB{i:06d}", f"Qoʻlyozma, fond raqami {i}") for i in range(_FIRST_MANUSCRIPT, _FIRST_MANUSCRIPT + MANUSCRIPTS)],
)


@dataclass(frozen=True)
class SampleFile:
    """One file of the sample collection."""

    path: Path
    count: int
    sets: tuple[str, ...]
    description: str


_UZ_LATN = [
    "Oʻzbekiston tarixi", "Alisher Navoiy ijodi", "Axborot-kutubxona markazlari faoliyati",
    "Raqamli kutubxonalar va elektron resurslar", "Gʻafur Gʻulom sheʼriyati", "Oʻzbek tili grammatikasi",
    "Samarqand meʼmoriy yodgorliklari", "Paxtachilik asoslari", "Toshkent shahri tarixi",
    "Kompyuter savodxonligi", "Qoraqalpogʻiston tabiati", "Boburnoma sharhi",
]  # fmt: skip
_UZ_CYRL = [
    "Ўзбекистон тарихи", "Алишер Навоий ижоди", "Ахборот-кутубхона марказлари фаолияти",
    "Ғафур Ғулом шеърияти", "Ўзбек тили грамматикаси", "Самарқанд меъморий ёдгорликлари",
    "Қорақалпоғистон табиати", "Ҳамза Ҳакимзода Ниёзий ҳаёти", "Бобурнома шарҳи",
]  # fmt: skip
_RU = [
    "История Узбекистана", "Библиотечное дело в Средней Азии", "Электронные библиотеки: теория и практика",
    "Каталогизация и форматы MARC", "Русская литература XIX века", "Основы информатики",
    "Археология Хорезма", "Поэзия Серебряного века",
]  # fmt: skip
_EN = [
    "Digital libraries in Central Asia", "Cataloguing with MARC 21", "The Silk Road: a history",
    "Metadata for digital collections", "Introduction to information retrieval", "Uzbek folk tales",
    "Preservation of manuscripts", "Open access and scholarly communication",
]  # fmt: skip
_AUTHORS = {
    "uzb": ["Karimov, Bahodir", "Yoʻldosheva, Gulnora", "Qodirov, Abdulla", "Rahimova, Dilfuza",
            "Toʻxtayev, Shavkat", "Gʻaniyev, Rustam"],
    "uzb-cyrl": ["Каримов, Баҳодир", "Йўлдошева, Гулнора", "Қодиров, Абдулла", "Раҳимова, Дилфуза"],
    "rus": ["Иванов, Пётр Сергеевич", "Смирнова, Анна Викторовна", "Петров, Николай", "Ёлкин, Олег"],
    "eng": ["Smith, John", "Brown, Emily", "Müller, Jürgen", "Çelik, Ayşe", "Dvořák, Pavel", "Núñez, José"],
}  # fmt: skip
_PUBLISHERS = {
    "uzb": ("Toshkent", "Oʻzbekiston"), "uzb-cyrl": ("Тошкент", "Фан"), "rus": ("Москва", "Наука"),
    "eng": ("London", "Routledge"),
}  # fmt: skip
_SUBJECTS = {
    "uzb": ["Kutubxonashunoslik", "Tarix", "Adabiyot", "Axborot texnologiyalari"],
    "uzb-cyrl": ["Кутубхонашунослик", "Тарих", "Адабиёт"],
    "rus": ["Библиотековедение", "История", "Литература", "Информатика"],
    "eng": ["Library science", "History", "Literature", "Information technology"],
}  # fmt: skip
_SERIALS = [
    ("Axborot-kutubxona faoliyati", "2181-9742", "uzb"),
    ("Ўзбек тили ва адабиёти", "0131-1832", "uzb-cyrl"),
    ("Библиотековедение", "0869-608X", "rus"),
    ("Central Asian Library Review", "1234-5679", "eng"),
]  # fmt: skip
_MARC_LANG = {"uzb": "uzb", "uzb-cyrl": "uzb", "rus": "rus", "eng": "eng"}


def _isbn13(n: int) -> str:
    core = f"9789943{n:05d}"
    check = (10 - sum((3 if i % 2 else 1) * int(c) for i, c in enumerate(core)) % 10) % 10
    return f"{core[:3]}-{core[3:7]}-{core[7:12]}-{check}"


def _titles(lang: str) -> list[str]:
    return {"uzb": _UZ_LATN, "uzb-cyrl": _UZ_CYRL, "rus": _RU, "eng": _EN}[lang]


def _f(tag: str, ind: str, *subfields: tuple[str, str]) -> DataField:
    return DataField(tag, ind[0], ind[1], tuple((c, v) for c, v in subfields if v))


def _marc21_book(i: int, lang: str, kind: str) -> MarcRecord:
    titles, authors = _titles(lang), _AUTHORS[lang]
    title = titles[i % len(titles)]
    volume = (
        f" {i // len(titles) + 1}-qism" if lang == "uzb" else f". {i // len(titles) + 1}" if i >= len(titles) else ""
    )
    year = 1995 + i % 30
    place, publisher = _PUBLISHERS[lang]
    type_code, level = ("t", "m") if kind == "manuscript" else ("a", "m")
    leader = f"00000n{type_code}{level} a2200000 i 4500"
    f008 = f"230115s{year}    uz            000 0 {_MARC_LANG[lang]} d"
    fields = [
        ControlField("001", f"KTB{i:06d}"),
        ControlField("003", ORG),
        ControlField("005", "20230115120000.0"),
        ControlField("008", f008),
    ]
    if kind == "book":
        fields.append(_f("020", "  ", ("a", _isbn13(i))))
    fields += [
        _f("040", "  ", ("a", ORG), ("b", "uzb" if lang.startswith("uzb") else lang), ("e", "rda")),
        _f("041", "0 ", ("a", _MARC_LANG[lang])),
        # a manuscript: UDC 091 (manuscripts) of Uzbekistan, (575.1), and a call number in its fund
        _f("080", "  ", ("a", "091(575.1)" if kind == "manuscript" else f"02{i % 9}")),
        *([_f("090", "  ", ("a", "MS"), ("b", str(i)))] if kind == "manuscript" else []),
        _f("100", "1 ", ("a", authors[i % len(authors)]), ("e", "author")),
        _f(
            "245",
            "10",
            ("a", title + volume),
            ("c", authors[i % len(authors)].split(", ")[-1] + " " + authors[i % len(authors)].split(",")[0]),
        ),
        _f("264", " 1", ("a", place), ("b", publisher), ("c", str(year))),
        _f("300", "  ", ("a", f"{120 + i % 300} b.")),
    ]
    if kind == "manuscript":
        fields.append(_f("500", "  ", ("a", f"Qoʻlyozma, XVIII asr. Fond raqami {i}.")))
    if kind == "thesis":
        fields.append(_f("502", "  ", ("b", "PhD"), ("c", "Toshkent davlat universiteti"), ("d", str(year))))
    fields.append(_f("650", " 7", ("a", _SUBJECTS[lang][i % len(_SUBJECTS[lang])]), ("2", "local")))
    if i % 3 == 0:
        fields.append(_f("700", "1 ", ("a", authors[(i + 1) % len(authors)]), ("e", "editor")))
    return MarcRecord(leader, fields)


def _marc21_serial(i: int) -> MarcRecord:
    title, issn, lang = _SERIALS[i]
    place, publisher = _PUBLISHERS[lang]
    return MarcRecord(
        "00000nas a2200000 i 4500",
        [
            ControlField("001", f"SER{i:06d}"),
            ControlField("003", ORG),
            ControlField("008", f"230115c20019999uz qr p       0   a0{_MARC_LANG[lang]} d"),
            _f("022", "0 ", ("a", issn)),
            _f("245", "00", ("a", title)),
            _f("264", " 1", ("a", place), ("b", publisher), ("c", "2001-")),
            _f("310", "  ", ("a", "Quarterly")),
        ],
    )


def _marc21_article(i: int) -> MarcRecord:
    serial = i % len(_SERIALS)
    host, issn, lang = _SERIALS[serial]
    titles, authors = _titles(lang), _AUTHORS[lang]
    year = 2015 + i % 10
    return MarcRecord(
        "00000naa a2200000 i 4500",
        [
            ControlField("001", f"ART{i:06d}"),
            ControlField("003", ORG),
            ControlField("008", f"230115s{year}    uz            000 0 {_MARC_LANG[lang]} d"),
            _f("100", "1 ", ("a", authors[i % len(authors)])),
            _f(
                "245",
                "10",
                (
                    "a",
                    f"{titles[i % len(titles)]}: maqola {i}" if lang == "uzb" else f"{titles[i % len(titles)]} ({i})",
                ),
            ),
            _f("520", "  ", ("a", f"{titles[(i + 2) % len(titles)]}.")),
            _f(
                "773",
                "0 ",
                ("t", host),
                ("x", issn),
                ("g", f"{year}, № {1 + i % 4}, b. {10 + i % 50}-{20 + i % 50}"),
                ("w", f"({ORG})SER{serial:06d}"),
            ),
        ],
    )


def _unimarc(i: int, lang: str, charset: str) -> MarcRecord:
    titles, authors = _titles(lang), _AUTHORS[lang]
    title = titles[i % len(titles)]
    year = 1990 + i % 33
    place, publisher = _PUBLISHERS[lang]
    surname, _, forename = authors[i % len(authors)].partition(", ")
    script = "ba" if lang == "uzb" else "ca"
    # UNIMARC 100 $a, 36 positions: date entered, type of date and dates (8-16), audience, government
    # publication, modified, language of cataloguing, transliteration, character sets (26-29: G0 and
    # G1), additional sets (30-33), script of title (34-35)
    f100 = f"20230115d{year}    u  y0{_MARC_LANG[lang]}y{charset:<4}{'':4}{script}"
    assert len(f100) == 36
    thesis = i % 7 == 0
    fields = [
        ControlField("001", f"UZM{i:06d}" if charset == "50" else f"RU{i:06d}"),
        _f("010", "  ", ("a", _isbn13(500 + i))),
        _f("100", "  ", ("a", f100)),
        _f("101", "0 ", ("a", _MARC_LANG[lang])),
        _f("200", "1 ", ("a", title), ("f", f"{forename} {surname}")),
        _f("210", "  ", ("a", place), ("c", publisher), ("d", str(year))),
        _f("215", "  ", ("a", f"{100 + i} с.")),
    ]
    if thesis:
        fields.append(_f("328", " 0", ("b", "Dissertatsiya"), ("c", "Filologiya"), ("e", "TDU"), ("d", str(year))))
    fields += [
        _f("606", "  ", ("a", _SUBJECTS[lang][i % len(_SUBJECTS[lang])])),
        _f("675", "  ", ("a", f"02{i % 9}")),
        _f("686", "  ", ("a", f"78.3{i % 9}"), ("2", "rubbk")),
        _f("700", " 1", ("a", surname), ("b", forename)),
    ]
    return MarcRecord("00000nam0 22000001i 450 ", fields)


def _dc_article(i: int) -> dcmod.DublinCore:
    langs = ["uzb", "rus", "eng", "uzb-cyrl"]
    lang = langs[i % len(langs)]
    titles, authors = _titles(lang), _AUTHORS[lang]
    record = dcmod.DublinCore()
    record.add("title", f"{titles[i % len(titles)]} — {i}", lang)
    record.add("creator", authors[i % len(authors)])
    record.add("subject", _SUBJECTS[lang][i % len(_SUBJECTS[lang])], lang)
    record.add("description", f"{titles[(i + 3) % len(titles)]}.", lang)
    record.add("publisher", _PUBLISHERS[lang][1])
    record.add("date", f"{2010 + i % 15}-0{1 + i % 9}-1{i % 10}")
    record.add("type", "Text")
    record.add("type", "article")
    record.add("identifier", f"https://doi.org/10.5555/kutubxona.{i:04d}")
    record.add("language", _MARC_LANG[lang])
    record.add("relation", _SERIALS[i % len(_SERIALS)][0])
    record.add("rights", "CC BY 4.0")
    return record


def build(folder: Path) -> list[SampleFile]:
    """Write the sample files into ``folder``; return what was written."""
    folder.mkdir(parents=True, exist_ok=True)
    files: list[SampleFile] = []

    def write(name: str, records: list[bytes], sets: tuple[str, ...], description: str) -> None:
        path = folder / name
        path.write_bytes(b"".join(records))
        files.append(SampleFile(path, len(records), sets, description))

    main: list[MarcRecord] = []
    n = 0
    for lang in ("uzb", "uzb-cyrl", "rus", "eng"):
        for _ in range(BOOKS_PER_LANGUAGE):
            main.append(_marc21_book(n, lang, "book"))
            n += 1
    for lang in ("uzb", "uzb-cyrl", "rus", "eng"):
        for _ in range(THESES_PER_LANGUAGE):
            main.append(_marc21_book(n, lang, "thesis"))
            n += 1
    assert n == _FIRST_MANUSCRIPT
    for _ in range(MANUSCRIPTS):
        main.append(_marc21_book(n, "uzb", "manuscript"))
        n += 1
    main += [_marc21_serial(i) for i in range(len(_SERIALS))]
    main += [_marc21_article(i) for i in range(60)]
    write(
        "asosiy-marc21-utf8.mrc",
        [to_iso2709(r) for r in main],
        ("fond:asosiy",),
        "MARC 21, UTF-8: books, theses, manuscripts, serials and articles linked by 773",
    )
    foreign = [_marc21_book(1000 + i, "eng" if i % 3 else "rus", "book") for i in range(30)]
    write(
        "xorijiy-marc21-marc8.mrc",
        [to_iso2709(r, "marc-8") for r in foreign],
        ("fond:xorijiy",),
        "MARC 21, MARC-8: English and Russian books",
    )
    uz = [_unimarc(i, "uzb" if i % 2 else "uzb-cyrl", "50") for i in range(50)]
    write(
        "uzmarc-unimarc-utf8.mrc",
        [to_iso2709(r) for r in uz],
        ("fond:uzmarc",),
        "UNIMARC (UZMARC), UTF-8: Uzbek Latin and Cyrillic",
    )
    ru = [_unimarc(100 + i, "rus", "  ") for i in range(40)]
    write(
        "rusmarc-unimarc-cp1251.mrc",
        [to_iso2709(r, "cp1251") for r in ru],
        ("fond:rusmarc",),
        "UNIMARC (RUSMARC), Windows-1251, blank leader/09 and no character set in 100$a",
    )
    articles = [dcmod.to_oai_dc(_dc_article(i), schema=False).encode() for i in range(40)]
    body = b'<?xml version="1.0" encoding="UTF-8"?>\n<records>\n' + b"\n".join(articles) + b"\n</records>\n"
    path = folder / "maqolalar-dc.xml"
    path.write_bytes(body)
    files.append(SampleFile(path, len(articles), ("maqolalar",), "Dublin Core: journal articles"))
    return files
