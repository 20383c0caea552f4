"""The Celery runner against the RabbitMQ and Redis that run on this machine: jobs queued by the
command line run in a Celery worker process, and a job whose message was never sent is swept up."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from repository.catalogue.models import ImportBatch, Job, Record
from repository.jobs import celery_runner, queue
from tests.conftest import BASE_URL, REPO_ID, Cli, require
from tests.helpers import marc, write

BROKERS = {"rabbitmq": ("127.0.0.1", 5672, "amqp://guest:guest@127.0.0.1:5672//"),
           "redis": ("127.0.0.1", 6379, "redis://127.0.0.1:6379/15")}  # fmt: skip


def _listening(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=2).close()
        return True
    except OSError:
        return False


@pytest.fixture(params=sorted(BROKERS))
def broker(request: pytest.FixtureRequest) -> str:
    host, port, url = BROKERS[request.param]
    require(_listening(host, port), f"{request.param} on {host}:{port}")
    celery_runner.celery_app(url).control.purge()  # messages an earlier run left
    return url


@pytest.fixture
def celery_worker(broker: str, db_url: str, tmp_path: Path) -> Iterator[subprocess.Popen]:
    """`kutubxona worker --celery` on the test's database and store, as another node would run it."""
    proc = _start_worker(broker, db_url, tmp_path, "celery-worker")
    yield proc
    _stop(proc)


def _start_worker(broker: str, db_url: str, tmp_path: Path, name: str, **settings: str) -> subprocess.Popen:
    env = {**os.environ, "KUTUBXONA_DATABASE_URL": db_url, "KUTUBXONA_VAR_DIR": str(tmp_path / f"{name}-var"),
           "KUTUBXONA_STORAGE_URL": (tmp_path / "objects").as_uri(), "KUTUBXONA_BASE_URL": BASE_URL,
           "KUTUBXONA_REPOSITORY_ID": REPO_ID, "KUTUBXONA_AUTO_MIGRATE": "no", "KUTUBXONA_BROKER_URL": broker,
           **{f"KUTUBXONA_{key}": value for key, value in settings.items()}}  # fmt: skip
    log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 - the child holds it; a pipe could fill and block it
    try:
        return subprocess.Popen([sys.executable, "-m", "repository.cli", "worker", "--celery"], env=env,
                                stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    finally:
        log.close()


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)  # a warm shutdown: the current task ends first
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def _wait_done(db, job_id: int, seconds: float = 60) -> Job:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = queue.get(db, job_id)
        if job.state in queue.FINAL:
            return job
        time.sleep(0.2)
    raise AssertionError(
        f"job {job_id} is still {queue.get(db, job_id).state} after {seconds} s (see celery-worker.log)"
    )


def test_a_background_import_runs_in_a_celery_worker(make_app, broker: str, celery_worker, tmp_path: Path):  # noqa: ANN001
    app = make_app(BROKER_URL=broker)
    cli, services = Cli(app), app.extensions["kutubxona"]
    out = cli("import", write(tmp_path / "a.mrc", *(marc(f"Q{n}", f"Kitob {n}") for n in range(12))), "--background")
    assert out.output.startswith("job 1 queued")
    done = _wait_done(services.db, 1)
    assert done.state == "done" and json.loads(done.result)["created"] == 12, done.error
    with services.db.reading() as s:
        assert len(s.scalars(select(Record.id)).all()) == 12
    # a job whose message was never sent (the broker was down) is announced again once it has waited
    lost = queue.enqueue(services.db, "release-embargoes", {}, "test")
    with services.db.transaction() as s:
        s.execute(update(Job).where(Job.id == lost).values(run_after=datetime(2020, 1, 1)))
    celery_runner.sweep(services)
    assert _wait_done(services.db, lost).state == "done"


def test_a_celery_worker_killed_mid_job_costs_one_step_and_another_finishes_it(
    make_app, broker: str, db_url: str, tmp_path: Path
):  # noqa: ANN001
    small = {"JOB_STEP_SECONDS": "0", "JOB_LEASE_SECONDS": "3", "IMPORT_CHUNK": "100", "IMPORT_WORKERS": "0"}
    app = make_app(BROKER_URL=broker, **small)
    cli, services = Cli(app), app.extensions["kutubxona"]
    big = write(tmp_path / "big.mrc", *(marc(f"W{n:05}", f"Kitob {n}") for n in range(3000)))
    first = _start_worker(broker, db_url, tmp_path, "first", **small)
    try:
        cli("import", big, "--background")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (queue.get(services.db, 1).checkpoint or "") == "":
            time.sleep(0.05)
        with services.db.reading() as s:  # a few steps in
            while time.monotonic() < deadline and (s.scalar(select(ImportBatch.records)) or 0) < 500:
                time.sleep(0.05)
                s.expire_all()
                s.rollback()
        first.kill()  # SIGKILL, mid-step: its message is not acknowledged
        first.wait()
        stood = queue.get(services.db, 1)
        assert stood.state in ("running", "queued") and stood.progress_done < stood.progress_total
    finally:
        _stop(first)
    second = _start_worker(broker, db_url, tmp_path, "second", **small)
    try:
        job = _wait_done(services.db, 1, seconds=120)
    finally:
        _stop(second)
    result = json.loads(job.result or "{}")
    assert job.state == "done", job.error
    # the batch's counters are committed with each chunk: no record read twice, none lost
    assert (result["batch"], result["records"], result["created"], result["unchanged"]) == (1, 3000, 3000, 0)
    assert job.attempts <= 2  # a step handed back is no attempt; the killed one may be
    with services.db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Record)) == 3000
        assert s.scalar(select(func.count()).select_from(ImportBatch)) == 1
    steps = (tmp_path / "second.log").read_text(errors="replace").count("handed back after a step")
    assert steps >= 3, "the second worker took the job in small steps"
