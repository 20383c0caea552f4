"""Schedules: a source's harvest and the embargo release come back, and fire once however many workers ask."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from repository.catalogue.models import Job, Schedule
from repository.jobs import queue, schedules
from repository.jobs.queue import JobError
from tests.conftest import Cli


def test_when_a_schedule_comes_round():
    one_am = datetime(2026, 12, 6, 1, 0)
    assert schedules.When("02:00").next_after(one_am) == datetime(2026, 12, 6, 2, 0)
    assert schedules.When("02:00").next_after(datetime(2026, 12, 6, 2, 0)) == datetime(2026, 12, 7, 2, 0)
    assert schedules.When(every_minutes=90).next_after(one_am) == datetime(2026, 12, 6, 2, 30)
    for wrong in ({"daily_at": "25:00"}, {}, {"daily_at": "02:00", "every_minutes": 5}, {"every_minutes": 0}):
        with pytest.raises(JobError):
            schedules.When(**wrong)


def _due_now(services, name: str) -> None:  # noqa: ANN001
    with services.db.transaction() as s:
        s.execute(update(Schedule).where(Schedule.name == name).values(next_run=datetime(2020, 1, 1)))


def test_the_embargo_release_is_scheduled_from_the_start_and_a_worker_runs_it(cli: Cli, services):  # noqa: ANN001
    [row] = [r for r in json.loads(cli("jobs", "schedules", "--json").output) if r["name"] == "release-embargoes"]
    assert (row["kind"], row["daily_at"]) == ("release-embargoes", "00:05")
    _due_now(services, "release-embargoes")
    assert "1 jobs run" in cli("worker", "--until-idle").output
    [job] = json.loads(cli("jobs", "list", "--json").output)
    assert job["kind"] == "release-embargoes" and job["state"] == "done"
    assert job["requested_by"] == "schedule:release-embargoes"
    assert "1 jobs run" not in cli("worker", "--until-idle").output  # moved on to tomorrow: not due again
    assert "switched off" in cli("embargo", "schedule", "--off").output
    [row] = [r for r in json.loads(cli("jobs", "schedules", "--json").output) if r["name"] == "release-embargoes"]
    assert row["enabled"] is False  # kept, off: the default is not added back


@pytest.mark.settings(HARVEST_ALLOW_PRIVATE="yes")  # a source on loopback
def test_a_source_is_harvested_on_its_schedule_until_it_is_removed(cli: Cli):
    assert "no harvest source" in cli("harvest", "schedule", "nowhere", "--daily", "02:00", code=2).output.lower()
    cli("harvest", "add", "uzlib", "http://127.0.0.1:9/oai")
    out = cli("harvest", "schedule", "uzlib", "--daily", "02:00").output
    assert out.startswith("harvest:uzlib: daily at 02:00 UTC, next at ") and "T02:00:00Z" in out
    assert "give the time as HH:MM" in cli("harvest", "schedule", "uzlib", "--daily", "2am", code=2).output
    listed = {r["name"]: r for r in json.loads(cli("jobs", "schedules", "--json").output)}
    assert listed["harvest:uzlib"]["arguments"] == {"source": "uzlib", "full": False}
    cli("harvest", "remove", "uzlib")
    assert "harvest:uzlib" not in {r["name"] for r in json.loads(cli("jobs", "schedules", "--json").output)}


def test_a_due_schedule_fires_once_however_many_workers_ask(make_app):  # noqa: ANN001
    nodes = [make_app().extensions["kutubxona"] for _ in range(4)]
    db = nodes[0].db
    schedules.put(db, "harvest:x", "reindex", {}, schedules.When(every_minutes=60))
    _due_now(nodes[0], "harvest:x")
    start, fired, errors = threading.Barrier(len(nodes)), [], []

    def ask(services) -> None:  # noqa: ANN001
        start.wait()
        try:
            fired.extend(schedules.fire_due(services.db))
        except Exception as exc:  # noqa: BLE001 - a worker that fails here is the defect looked for
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(svc,)) for svc in nodes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    with db.reading() as s:
        jobs = s.scalars(select(Job).where(Job.kind == "reindex")).all()
        row = s.scalar(select(Schedule).where(Schedule.name == "harvest:x"))
    assert errors == [] and len(fired) == len(jobs) == 1 and row.last_job == fired[0]
    assert row.next_run > datetime.utcnow() + timedelta(minutes=59)
    # due again while its last job still waits in the queue: skipped, not stacked
    _due_now(nodes[0], "harvest:x")
    assert schedules.fire_due(db) == [] and queue.get(db, fired[0]).state == "queued"
