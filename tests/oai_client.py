"""An OAI-PMH test client over real HTTP that validates every response it receives.

Each response is checked against the project's own ``schemas/`` and, when ``../shared/schemas``
exists, against the official schemas through ``validate_oai.py`` (with our MarcXchange schema
added, which the shared set does not hold).
"""

from __future__ import annotations

import gzip
import importlib.util
import urllib.error
import urllib.parse
import urllib.request
import zlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lxml import etree

from repository.metadata.marcxml import MARCXCHANGE_NS
from tests.conftest import shared_file

ROOT = Path(__file__).resolve().parents[1]
NS = {
    "o": "http://www.openarchives.org/OAI/2.0/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/",
    "marc": "http://www.loc.gov/MARC21/slim",
    "mx": MARCXCHANGE_NS,
    "id": "http://www.openarchives.org/OAI/2.0/oai-identifier",
}


@cache
def our_schema() -> etree.XMLSchema:
    """The project's own schema set (schemas/all.xsd)."""
    return etree.XMLSchema(etree.parse(str(ROOT / "schemas" / "all.xsd")))


@cache
def shared_schema() -> etree.XMLSchema | None:
    """The official schemas via ../shared/schemas/validate_oai.py, or None when that folder is absent."""
    script = shared_file("schemas/validate_oai.py")
    if script is None:
        return None
    spec = importlib.util.spec_from_file_location("validate_oai", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_schema(extra=[(MARCXCHANGE_NS, str(ROOT / "schemas" / "marcxchange.xsd"))])


def validate(doc: etree._Element) -> None:
    """Assert that a response is valid against both schema sets."""
    for schema in (our_schema(), shared_schema()):
        if schema is not None:
            assert schema.validate(doc), schema.error_log.last_error


@dataclass
class Reply:
    """One HTTP answer."""

    status: int
    headers: dict[str, str]
    body: bytes
    doc: etree._Element | None = None

    def xpath(self, path: str) -> list:
        """XPath over the parsed response, with the usual prefixes."""
        assert self.doc is not None
        return self.doc.xpath(path, namespaces=NS)

    def text(self, path: str) -> str:
        """The text of the first match."""
        found = self.xpath(path)
        assert found, f"nothing at {path}"
        return found[0] if isinstance(found[0], str) else (found[0].text or "")

    @property
    def error(self) -> str | None:
        """The first OAI error code, if any."""
        codes = self.xpath("/o:OAI-PMH/o:error/@code")
        return codes[0] if codes else None

    @property
    def request_attrs(self) -> dict[str, str]:
        """The attributes of the echoed request element."""
        return dict(self.xpath("/o:OAI-PMH/o:request")[0].attrib)

    @property
    def token(self) -> etree._Element | None:
        """The resumptionToken element, if any."""
        found = self.xpath("//o:resumptionToken")
        return found[0] if found else None


class OAI:
    """Talks to ``{base}/oai`` over HTTP."""

    def __init__(self, base: str) -> None:
        self.url = base + "/oai"

    def raw(self, query: str = "", *, data: bytes | None = None, headers: dict[str, str] | None = None) -> Reply:
        """Send a request (GET with ``query``, or POST with ``data``); parse and validate XML answers."""
        url = self.url + ("?" + query if query else "")
        req = urllib.request.Request(url, data=data, headers=headers or {})
        if data is not None:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, hdrs, body = resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as exc:
            return Reply(exc.code, dict(exc.headers), exc.read())
        encoding = hdrs.get("Content-Encoding")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        reply = Reply(status, hdrs, body)
        if status == 200:
            assert hdrs["Content-Type"].startswith("text/xml"), hdrs["Content-Type"]
            reply.doc = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
            validate(reply.doc)
        return reply

    def __call__(self, **args: str) -> Reply:
        """GET with these arguments (``from_`` stands for ``from``)."""
        pairs = [("from" if k == "from_" else k, v) for k, v in args.items()]
        return self.raw(urllib.parse.urlencode(pairs))

    def harvest(self, verb: str = "ListRecords", **args: str) -> tuple[list[etree._Element], list[Reply]]:
        """Follow resumption tokens to the end; return the items and the pages."""
        item_tag = {"ListRecords": "o:record", "ListIdentifiers": "o:header", "ListSets": "o:set"}[verb]
        reply = self(verb=verb, **args)
        pages, items = [reply], []
        while True:
            assert reply.error is None, reply.body[:500]
            found = reply.xpath(f"/o:OAI-PMH/o:{verb}/{item_tag}")
            assert found, "an empty page"
            items.extend(found)
            token = reply.token
            if token is None or not (token.text or "").strip():
                return items, pages
            reply = self(verb=verb, resumptionToken=token.text)
            pages.append(reply)
