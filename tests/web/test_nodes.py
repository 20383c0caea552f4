"""Two application nodes over one database, one S3 store and one search index serve as one repository."""

from __future__ import annotations

import json
import urllib.parse
import uuid
from pathlib import Path

from lxml import etree

from tests.conftest import Cli, serving
from tests.helpers import age, import_json, marc, write
from tests.web.test_site import get

OAI = {"o": "http://www.openarchives.org/OAI/2.0/"}


def test_two_nodes_serve_one_harvest_one_file_and_one_index(make_app, moto_server: str, osmem_url: str,  # noqa: ANN001
                                                             tmp_path: Path):  # fmt: skip
    shared = {
        "STORAGE_URL": f"s3://kx-nodes-{uuid.uuid4().hex[:8]}",
        "S3_ENDPOINT": moto_server,
        "SEARCH_URL": osmem_url,
        "SEARCH_INDEX": f"kx-nodes-{uuid.uuid4().hex[:8]}",
        "SECRET_KEY": "one secret for every node: a token signed by one is read by the other",
        "OAI_PAGE_SIZE": 10,
    }
    first = make_app(VAR_DIR=str(tmp_path / "node-a"), **shared)
    second = make_app(VAR_DIR=str(tmp_path / "node-b"), **shared)
    cli = Cli(first)
    import_json(cli, write(tmp_path / "a.mrc", *(marc(f"N{n:02d}", f"Kitob raqami {n}") for n in range(35))))
    cli("reindex")
    book = tmp_path / "kitob.txt"
    book.write_text("Kitobning toʻliq matni")
    cli("attach", "N07", book)
    age(first.extensions["kutubxona"])  # stored an hour ago: all harvestable now
    with serving(first) as a, serving(second) as b:
        # one harvest, its pages asked of the two nodes in turn
        seen, token, turn = [], None, 0
        while True:
            node = (a, b)[turn % 2]
            query = f"resumptionToken={urllib.parse.quote(token)}" if token else "metadataPrefix=oai_dc"
            status, _, body = get(f"{node}/oai?verb=ListIdentifiers&{query}")
            root = etree.fromstring(body)
            assert status == 200 and not root.xpath("//o:error", namespaces=OAI), body[:300]
            seen += root.xpath("//o:header/o:identifier/text()", namespaces=OAI)
            token = root.findtext(".//o:resumptionToken", namespaces=OAI)
            turn += 1
            if not token:
                break
        assert turn == 4 and len(seen) == len(set(seen)) == 35
        # a file attached through one node is read from the other
        status, _, data = get(f"{b}/records/N07/files/kitob.txt")
        assert (status, data.decode()) == (200, "Kitobning toʻliq matni")
        # and the other searches the same index
        status, _, found = get(f"{b}/api/search?q=raqami&size=1")
        assert status == 200 and json.loads(found)["total"] == 35
