"""Queueing a job and telling a runner about it: the table always, the broker too when there is one."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from repository.jobs import queue, schedules

if TYPE_CHECKING:
    from repository.services import Services

log = logging.getLogger(__name__)


def submit(services: Services, kind: str, arguments: dict[str, Any], requested_by: str) -> int:
    """Queue a job (in the table, the truth) and announce it to the broker when one is set; its id."""
    job_id = queue.enqueue(services.db, kind, arguments, requested_by)
    announce(services, [job_id])
    return job_id


def announce(services: Services, job_ids: Iterable[int]) -> None:
    """Send these jobs to the Celery workers (with no broker: nothing, `kutubxona worker` polls the table).

    A message that cannot be sent loses nothing: the job waits in the table, and the Celery workers
    send again what has waited too long (``celery_runner``).
    """
    url = services.settings.broker_url
    if not url:
        return
    from repository.jobs import celery_runner

    for job_id in job_ids:
        try:
            celery_runner.send(url, job_id)
        except Exception as exc:  # noqa: BLE001 - the broker's failure is logged; the job is in the table
            log.warning("job %d: not sent to the broker (%s); it waits in the table", job_id, exc)


def fire_schedules(services: Services) -> list[int]:
    """Queue what the schedules say is due (once, however many workers ask) and announce it; the job ids."""
    fired = schedules.fire_due(services.db)
    announce(services, fired)
    for job_id in fired:
        log.info("job %d queued by its schedule", job_id)
    return fired
