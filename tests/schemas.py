"""Schema validation of single payloads: the project's own schemas/, and the official ones when
../shared/schemas exists beside the project (as in CI)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree

from tests.conftest import shared_file

OURS = Path(__file__).resolve().parents[1] / "schemas"


@cache
def _schema(path: Path) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(path)))


def assert_valid(xml: bytes, schema_file: str) -> None:
    """Validate one metadata payload (``oai_dc.xsd``, ``MARC21slim.xsd``) against each schema set."""
    doc = etree.fromstring(xml)
    shared = shared_file("schemas")  # the official set has no MarcXchange schema: ours alone checks that
    for path in (OURS / schema_file, shared / schema_file if shared else None):
        if path is not None and path.exists():
            schema = _schema(path)
            assert schema.validate(doc), f"{path}: {schema.error_log.last_error}\n{xml[:500]!r}"
