"""Uzbek apostrophes: oʻ and gʻ are typed with U+02BB, U+2018, U+2019, U+0027 or U+0060 in the wild."""

from __future__ import annotations

import re

# oʻ/gʻ take U+02BB (modifier letter turned comma), which tesseract's uzb model emits; the tutuq
# belgisi (glottal stop, as in maʼlumot) takes U+02BC.
_OG = re.compile("([OoGg])[\u2018\u2019\u02bc'`]")
_GLOTTAL = re.compile("(?<=[A-Za-z])[\u2018\u2019'`](?=[A-Za-z])")


def normalise(text: str) -> str:
    """Fold the apostrophe variants of Uzbek Latin to one form each."""
    text = _OG.sub("\\1\u02bb", text)
    return _GLOTTAL.sub("\u02bc", text)
