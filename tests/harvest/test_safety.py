"""A harvest that cannot wipe a source by accident, and records that cannot be read are kept and retried."""

from __future__ import annotations

import json

import pytest

from tests.harvest.quirks import DC, OAI_HEAD, QuirkServer, Reply, error, identify, list_records, record
from tests.harvest.test_runner import harvested

# the sources of these tests are served on loopback, which harvests may reach only when allowed
pytestmark = pytest.mark.settings(HARVEST_ALLOW_PRIVATE="yes")


def list_identifiers(identifiers: list[str]) -> bytes:
    headers = "".join(f"<header><identifier>{i}</identifier><datestamp>2024-01-01</datestamp></header>"
                      for i in identifiers)  # fmt: skip
    head = OAI_HEAD.format(date="2024-06-01T00:00:00Z", verb="ListIdentifiers")
    return (head + f"<ListIdentifiers>{headers}</ListIdentifiers></OAI-PMH>").encode()


class Source:
    """A source of ten records whose ListIdentifiers the test decides."""

    def __init__(self) -> None:
        self.ids = [f"oai:q:{n}" for n in range(10)]
        self.listed: bytes | None = None  # ListIdentifiers answer; None: every record
        self.status = 200

    def __call__(self, args: dict[str, str]) -> Reply:
        if args["verb"] == "Identify":
            return Reply(identify())
        if args["verb"] == "ListIdentifiers":
            retry = {"Retry-After": "0"} if self.status == 503 else {}
            return Reply(self.listed or list_identifiers(self.ids), self.status, retry)
        return Reply(list_records([record(i, title=f"Kitob {i}") for i in self.ids]))


def live(services, name: str = "q") -> set[str]:  # noqa: ANN001
    return {i for i, r in harvested(services, name).items() if not r.deleted}


def test_an_empty_or_failing_list_never_deletes(cli, services):
    src = Source()
    with QuirkServer(src).running() as server:
        cli("harvest", "add", "q", server.url)
        cli("harvest", "run", "q")
        assert len(live(services)) == 10
        src.listed = error("noRecordsMatch", "ListIdentifiers")
        result = cli("harvest", "run", "q", "--full", code=1)
        assert "refused: the source listed no identifiers; none of our 10 records tombstoned" in result.stderr
        assert len(live(services)) == 10
        src.listed, src.status = b"<html>Overloaded</html>", 503  # to the end of the client's retries
        report = json.loads(cli("harvest", "run", "q", "--full", "--json", code=2).stdout)
        assert "TransportError" in report["error"] and report["deleted"] == 0
    assert len(live(services)) == 10


def test_more_than_the_allowed_share_is_refused_unless_asked(cli, services):
    src = Source()
    every = list(src.ids)
    with QuirkServer(src).running() as server:
        cli("harvest", "add", "q", server.url)
        cli("harvest", "run", "q")
        src.ids = every[:8]  # two of ten gone without a deletion: 20%, over the default 10%
        report = json.loads(cli("harvest", "run", "q", "--full", "--json", code=1).stdout)
        assert report["deleted"] == 0 and "would tombstone 2 of 10 records (20%)" in report["refused"]
        assert len(live(services)) == 10
        cli("harvest", "run", "q", "--full", "--max-delete", "25")
        assert live(services) == set(every[:8])
        src.ids = every[:1]
        cli("harvest", "run", "q", "--full", code=1)
        assert len(live(services)) == 8
        report = json.loads(cli("harvest", "run", "q", "--full", "--allow-mass-delete", "--json").stdout)
        assert report["deleted"] == 7 and "refused" not in report
    assert live(services) == {"oai:q:0"}


def test_an_unreadable_record_is_kept_shown_and_read_again(cli, services):
    unknown = "<x:thing xmlns:x='urn:x'>Not a format we store</x:thing>"
    state = {"fixed": False}

    def script(args: dict[str, str]) -> Reply:
        if args["verb"] == "Identify":
            return Reply(identify())
        if args["verb"] == "GetRecord":
            assert args["identifier"] == "oai:q:odd"
            meta = DC.format(title="Endi oʻqiladi") if state["fixed"] else unknown
            head = OAI_HEAD.format(date="2024-06-02T00:00:00Z", verb="GetRecord")
            rec = f"<record><header><identifier>oai:q:odd</identifier><datestamp>2024-06-02</datestamp></header>" \
                  f"<metadata>{meta}</metadata></record>"  # fmt: skip
            return Reply((head + f"<GetRecord>{rec}</GetRecord></OAI-PMH>").encode())
        if args.get("from"):
            return Reply(error("noRecordsMatch"))
        odd = "<record><header><identifier>oai:q:odd</identifier><datestamp>2024-01-01</datestamp></header>" \
              f"<metadata>{unknown}</metadata></record>"  # fmt: skip
        return Reply(list_records([record("oai:q:1"), odd]))

    with QuirkServer(script).running() as server:
        cli("harvest", "add", "q", server.url)
        cli("harvest", "run", "q", code=1)
        (status,) = json.loads(cli("harvest", "status", "q", "--json").stdout)
        (problem,) = status["problems"]
        assert problem["identifier"] == "oai:q:odd" and "urn:x" in problem["reason"]
        assert "Not a format we store" in problem["raw"] and problem["attempts"] == 1
        again = json.loads(cli("harvest", "run", "q", "--json", code=1).stdout)  # read again: still unreadable
        assert again["problems"] == [{"identifier": "oai:q:odd", "reason": again["problems"][0]["reason"]}]
        assert again["problems"][0]["reason"].startswith("still unreadable")
        assert json.loads(cli("harvest", "status", "q", "--json").stdout)[0]["problems"][0]["attempts"] == 2
        state["fixed"] = True
        fixed = json.loads(cli("harvest", "run", "q", "--json").stdout)
        assert fixed["retried"] == 1 and fixed["set_aside"] == 0
    assert harvested(services, "q")["oai:q:odd"].title == "Endi oʻqiladi"
    assert json.loads(cli("harvest", "status", "q", "--json").stdout)[0]["problems"] == []
