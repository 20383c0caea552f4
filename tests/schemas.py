"""Schema validation for tests: the shared official XSDs (present in CI beside the project)."""

from __future__ import annotations

from functools import cache

from lxml import etree

from tests.conftest import SHARED, require


@cache
def _schema(name: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SHARED / "schemas" / name)))


def assert_valid(xml: bytes, schema_file: str) -> None:
    """Validate one metadata payload (``oai_dc.xsd``, ``MARC21slim.xsd``) against the official schema."""
    require((SHARED / "schemas" / schema_file).exists(), f"../shared/schemas/{schema_file}")
    schema = _schema(schema_file)
    doc = etree.fromstring(xml)
    assert schema.validate(doc), f"{schema.error_log.last_error}\n{xml[:500]!r}"
