"""Splicing stored payloads into responses: what XML 1.0 forbids never gets out, clean bytes pass as they are."""

from __future__ import annotations

import pytest
from lxml import etree

from repository.oai.xmlwrite import payload


def test_a_clean_payload_is_passed_through_untouched():
    xml = "<dc:title xmlns:dc='http://purl.org/dc/elements/1.1/'>Oʻzbekiston &amp; Ўзбекистон\t\n</dc:title>".encode()
    assert payload(xml) is xml


@pytest.mark.parametrize("bad", [b"\x00", b"\x01", b"\x08", b"\x0b", b"\x0c", b"\x0e", b"\x1f", "\ufffe".encode(),
                                 "\uffff".encode()])  # fmt: skip
def test_each_character_xml_forbids_is_stripped_alone(bad: bytes):
    xml = b"<title>A" + bad + b"B</title>"
    assert payload(xml) == b"<title>AB</title>"
    assert etree.fromstring(payload(xml)).text == "AB"
