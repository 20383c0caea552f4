"""Uzbek apostrophes: oʻ and gʻ are typed with U+02BB, U+2018, U+2019, U+0027 or U+0060 in the wild."""

from __future__ import annotations

import re

_APOSTROPHES = "\u2018\u2019\u02bc'`"
# an apostrophe that ends an English contraction (don't, it's, we're, I've, you'll, she'd, I'm) is
# an apostrophe, not Uzbek: text in several languages keeps it
_NOT_CONTRACTION = r"(?!(?:t|s|re|ve|ll|d|m)\b)"
# oʻ/gʻ take U+02BB (modifier letter turned comma), which tesseract's uzb model emits; the tutuq
# belgisi (glottal stop, as in maʼlumot) takes U+02BC
_OG = re.compile(f"([OoGg])[{_APOSTROPHES}]{_NOT_CONTRACTION}")
_GLOTTAL = re.compile(f"(?<=[A-Za-z])[\u2018\u2019'`]{_NOT_CONTRACTION}(?=[A-Za-z])")


def normalise(text: str) -> str:
    """Fold the apostrophe variants of Uzbek Latin to one form each."""
    text = _OG.sub("\\1\u02bb", text)
    return _GLOTTAL.sub("\u02bc", text)


def is_uzbek_latin(languages: str) -> bool:
    """True when OCR or record languages (``uzb+rus``) include Uzbek in Latin script."""
    return "uzb" in languages.split("+")
