"""/metrics in one process: requests by route, OAI-PMH verbs and tokens, records and the search backlog."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from tests.conftest import Cli, serving
from tests.helpers import age, import_json, marc, write
from tests.web.test_shedding import samples
from tests.web.test_site import get

OAI_NS = {"o": "http://www.openarchives.org/OAI/2.0/"}


def test_metrics_count_routes_oai_tokens_and_records(make_app, tmp_path: Path):  # noqa: ANN001
    app = make_app(OAI_PAGE_SIZE=2)
    cli = Cli(app)
    import_json(cli, write(tmp_path / "a.mrc", *(marc(f"M{n}", f"Kitob {n}") for n in range(5))))
    cli("delete", "M4")
    age(app.extensions["kutubxona"])  # stored an hour ago: harvestable now
    with serving(app) as url:
        before = samples(url)
        token = ""
        pages = 0
        while True:  # 4 live records and a tombstone, two to a page: three pages, two tokens
            query = f"resumptionToken={token}" if token else "metadataPrefix=oai_dc"
            root = etree.fromstring(get(f"{url}/oai?verb=ListRecords&{query}")[2])
            pages += 1
            token = root.findtext(".//o:resumptionToken", namespaces=OAI_NS) or ""
            if not token:
                break
        get(url + "/oai?verb=ListRecords&metadataPrefix=nope")
        get(url + "/records/M1")
        get(url + "/records/M2")
        get(url + "/no/such/page")
        cli("reindex", "--background")
        after = samples(url)

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert pages == 3
    assert delta("kutubxona_oai_tokens_issued_total", verb="ListRecords") == 2
    assert delta("kutubxona_oai_requests_total", verb="ListRecords", outcome="ok") == 3
    assert delta("kutubxona_oai_requests_total", verb="ListRecords", outcome="cannotDisseminateFormat") == 1
    # routes, not addresses: two record pages are one series
    assert delta("kutubxona_http_requests_total", route="/records/<path:local_id>", method="GET", status="200") == 2
    assert delta("kutubxona_http_requests_total", route="unmatched", method="GET", status="404") == 1
    assert delta("kutubxona_http_request_seconds_count", route="/oai") == 4
    assert after[("kutubxona_records", (("state", "live"),))] == 4
    assert after[("kutubxona_records", (("state", "deleted"),))] == 1
    assert ("kutubxona_search_backlog", ()) in after
    assert after[("kutubxona_jobs", (("state", "queued"),))] == 1
    assert after[("kutubxona_jobs", (("state", "running"),))] == 0


def test_the_search_backlog_counts_the_records_waiting_to_be_indexed(make_app, tmp_path: Path):  # noqa: ANN001
    app = make_app()
    cli = Cli(app)
    with serving(app) as url:
        assert samples(url)[("kutubxona_search_backlog", ())] == 0
        # stored and noted, not indexed yet: a search (or a worker) indexes what was noted
        import_json(cli, write(tmp_path / "a.mrc", *(marc(f"M{n}", f"Kitob {n}") for n in range(5))))
        assert samples(url)[("kutubxona_search_backlog", ())] == 5
        cli("delete", "M4")
        import_json(cli, write(tmp_path / "b.mrc", marc("M5", "Yana bir kitob")))
        assert samples(url)[("kutubxona_search_backlog", ())] == 6
        assert get(url + "/api/search?q=kitob")[0] == 200
        assert samples(url)[("kutubxona_search_backlog", ())] == 0
