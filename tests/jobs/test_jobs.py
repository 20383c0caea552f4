"""Background jobs on the real database: queued by `--background`, claimed once, taken over after a
worker dies, cancelled, failed and retried."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from repository.catalogue.models import Job, Record
from repository.jobs import queue
from repository.jobs.worker import Worker
from repository.metadata.marc import to_iso2709
from tests.conftest import Cli
from tests.helpers import marc, write


def job(cli: Cli, job_id: int) -> dict:
    return json.loads(cli("jobs", "show", str(job_id)).output)


def test_a_background_import_is_run_by_the_worker(cli: Cli, services, tmp_path: Path):
    path = write(tmp_path / "a.mrc", *(marc(f"B{n}", f"Kitob {n}") for n in range(30)))
    cli("sets", "add", "fond", "Fond")
    out = cli("import", path, "--set", "fond", "--background").output
    assert out.startswith("job 1 queued: import ")
    job_id = 1
    path.unlink()  # the worker reads the copy kept in the object store, not the cataloguer's file
    with services.db.reading() as s:
        assert s.scalar(select(Record.id)) is None  # nothing yet: the worker has not run
    assert "1 jobs run" in cli("worker", "--until-idle").output
    shown = job(cli, job_id)
    assert shown["state"] == "done" and shown["attempts"] == 1 and shown["result"]["created"] == 30
    assert shown["progress"]["done"] == shown["progress"]["total"] > 0
    with services.db.reading() as s:
        assert len(s.scalars(select(Record.id)).all()) == 30
    listed = json.loads(cli("jobs", "list", "--json").output)
    assert [j["id"] for j in listed] == [job_id] and listed[0]["kind"] == "import"


def test_a_file_in_no_format_we_read_fails_at_once_without_retries(cli: Cli, tmp_path: Path):
    path = tmp_path / "notes.txt"
    path.write_text("Hello, this is not MARC at all\n")
    cli("import", path, "--background")
    cli("worker", "--until-idle")
    shown = job(cli, 1)
    assert shown["state"] == "failed" and shown["attempts"] == 1 and "not ISO 2709" in shown["error"]


def test_two_workers_never_take_the_same_job(make_app):  # noqa: ANN001
    first, second = (make_app().extensions["kutubxona"] for _ in range(2))
    ids = [queue.enqueue(first.db, "release-embargoes", {}, "test") for _ in range(30)]
    ran: dict[str, int] = {}

    def work(services, name: str) -> None:  # noqa: ANN001
        ran[name] = Worker(services, name=name).run(threading.Event(), until_idle=True)

    threads = [threading.Thread(target=work, args=(svc, name)) for svc, name in ((first, "a"), (second, "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    with first.db.reading() as s:
        jobs = s.scalars(select(Job).where(Job.id.in_(ids))).all()
    assert {j.state for j in jobs} == {"done"} and {j.attempts for j in jobs} == {1}
    assert ran["a"] + ran["b"] == 30 and {j.worker for j in jobs} <= {"a", "b"}


def test_the_job_of_a_worker_that_died_is_taken_over_when_its_lease_lapses(services):  # noqa: ANN001
    db = services.db
    job_id = queue.enqueue(db, "release-embargoes", {}, "test", max_attempts=2)
    assert queue.claim(db, "dead:1", lease_seconds=1).id == job_id  # ... and the worker dies
    assert queue.claim(db, "alive:2", lease_seconds=60) is None  # its lease still holds
    time.sleep(1.2)
    taken = queue.claim(db, "alive:2", lease_seconds=60)
    assert (taken.id, taken.attempt) == (job_id, 2)
    # the dead worker, back from a long pause, can no longer write over the one holding the job
    assert queue.renew(db, job_id, "dead:1", 60) == (False, False)
    assert not queue.finish(db, job_id, "dead:1", {"late": True})
    assert queue.finish(db, job_id, "alive:2", {"released": []})
    assert queue.get(db, job_id).state == "done"
    # a job whose workers keep dying is failed once its attempts are spent
    again = queue.enqueue(db, "release-embargoes", {}, "test", max_attempts=1)
    queue.claim(db, "dead:3", lease_seconds=1)
    time.sleep(1.2)
    assert queue.claim(db, "alive:4", lease_seconds=60) is None
    failed = queue.get(db, again)
    assert failed.state == "failed" and "stopped answering 1 times" in failed.error


def test_a_running_job_stops_at_its_next_step_when_cancelled(make_app, tmp_path: Path):  # noqa: ANN001
    app = make_app(JOB_LEASE_SECONDS=1, IMPORT_CHUNK=200)  # a heartbeat every third of a second
    cli, services = Cli(app), app.extensions["kutubxona"]
    path = tmp_path / "big.mrc"
    path.write_bytes(b"".join(to_iso2709(marc(f"C{n}", f"Kitob {n}")) for n in range(20_000)))
    cli("import", path, "--background")
    worker = threading.Thread(target=lambda: Worker(services).run_one())
    worker.start()
    deadline = time.monotonic() + 30
    while queue.get(services.db, 1).progress_done == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cli("jobs", "cancel", "1").output.strip() == "job 1: cancel asked"
    worker.join(timeout=60)
    stopped = queue.get(services.db, 1)
    assert stopped.state == "cancelled" and stopped.progress_done < stopped.progress_total
    assert "is cancelled already" in cli("jobs", "cancel", "1", code=2).output
    queued = queue.enqueue(services.db, "reindex", {}, "test")
    assert queue.cancel(services.db, queued) == "cancelled"  # a queued job is cancelled at once


@pytest.mark.settings(HARVEST_ALLOW_PRIVATE="yes")  # the source that is down is on loopback
def test_a_harvest_whose_source_is_down_is_tried_again_later(cli: Cli):
    cli("harvest", "add", "down", "http://127.0.0.1:9/oai")  # nothing listens on port 9
    assert cli("harvest", "run", "down", "--background").output.startswith("job 1 queued: harvest of down")
    cli("worker", "--until-idle")
    shown = job(cli, 1)
    assert shown["state"] == "queued" and shown["attempts"] == 1  # waiting for its next attempt
    assert shown["error"].startswith("RuntimeError: harvest of down failed")
    assert "1 jobs run" not in cli("worker", "--until-idle").output  # not due yet: the retry waits
