"""XML text helpers: the cleaning stream that keeps one bad character from ending a file."""

from __future__ import annotations

import io

import pytest

from repository.metadata.xmltext import XmlCleaner


def read_all(data: bytes, size: int) -> tuple[bytes, dict[int, int]]:
    cleaner = XmlCleaner(io.BufferedReader(io.BytesIO(data)))
    out = b""
    while chunk := cleaner.read(size):
        out += chunk
    return out, cleaner.removed


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64, -1])
def test_forbidden_bytes_and_references_go_whatever_the_reads(size: int):
    data = b"<r>\n<a>x\x0by</a>\n<b>&#11;&#x1f;&#65;&amp;&#xD7FF;&#0;</b>\n<c>\x01\x02</c>&#x110000;</r>"
    out, removed = read_all(data, size)
    assert out == b"<r>\n<a>xy</a>\n<b>&#65;&amp;&#xD7FF;</b>\n<c></c></r>"
    assert removed == {2: 1, 3: 3, 4: 3}


def test_clean_xml_passes_unchanged_and_a_final_ampersand_is_not_lost():
    data = "<r>Oʻzbekiston &amp; Toshkent</r>\n&".encode()
    assert read_all(data, 4) == (data, {})


def test_utf16_is_passed_through():
    data = "<r>kitob</r>".encode("utf-16")
    assert read_all(data, 3) == (data, {})
