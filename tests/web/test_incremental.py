"""An incremental harvester never misses a change: the guarantee the OAI-PMH guidelines rest on.

A harvester polls ``ListIdentifiers&from=<responseDate of its previous harvest>`` while records are
imported, deleted at random moments and rerendered, and while one write transaction stays open
longer than a harvest.  When the writes stop, the newest header it has seen for each record must
be the record's final header.  (See ``repository.catalogue.stamps`` for how.)
"""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

from sqlalchemy import select

from repository import catalogue
from repository.actions import records as record_actions
from repository.actions.importing import ImportOptions
from repository.catalogue.models import Record
from tests.conftest import REPO_ID
from tests.helpers import age, import_json, marc, write
from tests.oai_client import OAI

PREFIX = f"oai:{REPO_ID}:"


class Harvester(threading.Thread):
    """Polls with from = the responseDate of its previous harvest's first page, as harvesters do."""

    def __init__(self, base: str) -> None:
        super().__init__(daemon=True)
        self.oai = OAI(base)
        self.seen: dict[str, tuple[str, bool]] = {}  # local id -> (datestamp, deleted), the newest
        self.harvests = 0
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.last: str | None = None

    def harvest_once(self) -> None:
        args = {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"}
        if self.last:
            args["from_"] = self.last
        reply = self.oai(**args)
        response_date = reply.text("//o:responseDate")
        while reply.error != "noRecordsMatch":
            assert reply.error is None, reply.body[:300]
            for header in reply.xpath("//o:header"):
                local = header.findtext("{*}identifier").removeprefix(PREFIX)
                stamp, deleted = header.findtext("{*}datestamp"), header.get("status") == "deleted"
                if local not in self.seen or stamp >= self.seen[local][0]:
                    self.seen[local] = (stamp, deleted)
            token = reply.token
            if token is None or not (token.text or "").strip():
                break
            reply = self.oai(verb="ListIdentifiers", resumptionToken=token.text)
        self.last = response_date
        self.harvests += 1

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self.harvest_once()
                time.sleep(random.uniform(0, 0.3))
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc


def test_a_harvester_polling_from_its_last_response_date_sees_every_change(cli, services, live: str, tmp_path: Path):
    rng = random.Random(7)
    import_json(cli, write(tmp_path / "start.mrc", *[marc(f"H{n:03}", f"Kitob {n}") for n in range(40)]))
    age(services)
    importer = services.importer()
    harvester = Harvester(live)
    harvester.start()
    long_held = threading.Thread(target=hold_a_transaction_open, args=(services, "H001", 4.0))
    try:
        for step in range(30):
            kind = rng.choice(["import", "import", "delete", "rerender"])
            if step == 5:
                long_held.start()  # a deletion whose transaction stays open longer than a harvest
            if kind == "import":
                chosen = rng.sample(range(60), 5)  # updates and new records
                path = write(tmp_path / f"s{step}.mrc", *[marc(f"H{n:03}", f"Kitob {n}, {step}") for n in chosen])
                importer.import_file(path, ImportOptions())
            elif kind == "delete":
                record_actions.delete(services, f"H{rng.randrange(40):03}", actor="test")
            else:
                with services.db.transaction() as session:  # the whole catalogue, one transaction
                    catalogue.rerender(session, services.base_url, touch=True)
            time.sleep(rng.uniform(0, 0.4))
        long_held.join()
    finally:
        harvester.stop.set()
        harvester.join()
    assert harvester.error is None, harvester.error
    assert harvester.harvests > 5  # it really polled while the writes went on
    time.sleep(1.1)  # the last write's second is over: a list leaves out the second it is asked in
    harvester.harvest_once()
    with services.db.reading() as s:
        final = {r.local_id: (r.datestamp.strftime("%Y-%m-%dT%H:%M:%SZ"), r.deleted) for r in s.scalars(select(Record))}
    assert final["H001"][1]  # the long transaction's deletion happened
    missed = {local: (harvester.seen.get(local), state) for local, state in final.items()
              if harvester.seen.get(local) != state}  # fmt: skip
    assert missed == {}


def hold_a_transaction_open(services, local_id: str, seconds: float) -> None:  # noqa: ANN001
    """Delete a record in a transaction that stays open ``seconds`` before it commits."""
    with services.db.transaction() as session:
        record = session.scalar(select(Record).where(Record.local_id == local_id))
        catalogue.delete_record(session, record, actor="slow")
        session.flush()
        time.sleep(seconds)
