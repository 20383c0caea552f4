"""The Celery runner (celery is imported here only), for KUTUBXONA_BROKER_URL=amqp://... or redis://...

The job table stays the truth; a message names a job, and the task claims it as ``kutubxona
worker`` would (``Worker.run_job``).  Tasks are kept small: a task runs its job for about
KUTUBXONA_JOB_STEP_SECONDS, to the next step boundary (a chunk of records, a batch of OCR pages,
a harvest page, a reindex chunk), hands it back with its checkpoint and sends the message for
the next step before its own is acknowledged.  Messages are acknowledged late and a worker takes
one at a time (prefetch 1), so a worker that dies loses no message and little work: the broker
gives the message to another, which waits, retrying, until the dead worker's lease lapses, takes
the job over and goes on from the last step committed.  A message that was
never sent (the broker was down) is sent again by ``sweep`` once its job has waited too long, and
the schedules are fired from the workers too, so a Celery set-up needs no ``kutubxona worker``.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery import Celery

from repository import config
from repository.jobs import queue
from repository.jobs.dispatch import announce, fire_schedules
from repository.jobs.worker import Worker

QUEUE = "kutubxona"
TASK = "kutubxona.run_job"
STALE_SECONDS = 120  # a queued, due job no worker has taken for this long is announced again
SWEEP_SECONDS = 30

log = logging.getLogger(__name__)
_apps: dict[str, Celery] = {}
_services: Any = None


def celery_app(broker_url: str) -> Celery:
    """The Celery application for this broker: late acks, one message at a time, no results kept."""
    app = _apps.get(broker_url)
    if app is None:
        app = Celery("kutubxona", broker=broker_url, set_as_current=False)
        app.conf.update(
            task_acks_late=True,
            task_reject_on_worker_lost=True,
            worker_prefetch_multiplier=1,
            task_ignore_result=True,
            task_default_queue=QUEUE,
            broker_connection_retry_on_startup=True,
            worker_hijack_root_logger=False,
        )
        app.task(name=TASK, bind=True, max_retries=None)(_run_job)
        _apps[broker_url] = app
    return app


def send(broker_url: str, job_id: int) -> None:
    """Announce one job to the workers."""
    celery_app(broker_url).send_task(TASK, args=[job_id], queue=QUEUE)


def _services_here() -> Any:
    global _services
    if _services is None:
        from repository.services import open_services

        _services = open_services(config.load())
    return _services


def _run_job(task: Any, job_id: int) -> str:
    services = _services_here()
    outcome = Worker(services, step_seconds=services.settings.job_step_seconds).run_job(job_id)
    if outcome == "stepped":  # the next step's message goes out before this one is acknowledged
        announce(services, [job_id])
    elif outcome == "later":  # waiting for its retry, or held by a worker whose lease has not lapsed
        raise task.retry(countdown=max(5, services.settings.job_lease_seconds // 2))
    return outcome


def sweep(services: Any, stale_seconds: int = STALE_SECONDS) -> None:
    """Fire the schedules that are due and announce them; announce again jobs that waited too long."""
    fire_schedules(services)
    announce(services, queue.stale(services.db, stale_seconds))


def work(services: Any) -> None:
    """Run a Celery worker (one job at a time: the solo pool) with a sweeper thread beside it, until stopped."""
    global _services
    _services = services
    stop = threading.Event()

    def sweeping() -> None:
        while not stop.wait(SWEEP_SECONDS):
            try:
                sweep(services)
            except Exception:  # noqa: BLE001 - the next sweep tries again
                log.exception("sweep failed")

    thread = threading.Thread(target=sweeping, name="kutubxona-sweep", daemon=True)
    # a worker starting may follow one that died holding messages (Redis gives them back only after its
    # visibility timeout): every job already due is announced again, once; a message too many finds it taken
    sweep(services, stale_seconds=0)
    thread.start()
    try:
        celery_app(services.settings.broker_url).worker_main(
            [
                "worker",
                "--prefetch-multiplier=1",
                "--loglevel=INFO",
                "-Q",
                QUEUE,
                "--without-gossip",
                "--without-mingle",
                "--pool=solo",
            ]
        )
    finally:
        stop.set()
