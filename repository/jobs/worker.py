"""``kutubxona worker``: claim a job, run it while a heartbeat keeps its lease, record how it ended.

A worker that dies leaves its job running with a lease that lapses; the next worker to ask takes
it over (``queue.claim``) and goes on from the job's checkpoint.  Given ``step_seconds`` (the
Celery runner), a worker hands a job back at its first step boundary after that long, so that
tasks stay small; ``kutubxona worker`` keeps a job until it ends.

A job's own errors are recorded: one a user must fix (a ``KutubxonaError``: a file in no format
we read) fails at once, anything else (a store or database that did not answer, ``Unavailable``
included) is tried again after a wait, up to the job's ``max_attempts``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

from repository.errors import Handback, KutubxonaError, Unavailable
from repository.jobs import queue
from repository.jobs.dispatch import fire_schedules
from repository.jobs.kinds import KINDS, Stop

if TYPE_CHECKING:
    from repository.services import Services

log = logging.getLogger(__name__)
PROGRESS_SECONDS = 1.0  # progress is written at most this often: a record at a time would be a write each


class Worker:
    """Runs jobs from the table, one at a time."""

    def __init__(
        self,
        services: Services,
        name: str | None = None,
        kinds: tuple[str, ...] = (),
        step_seconds: float | None = None,
    ) -> None:
        self.services = services
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.kinds = kinds
        self.lease = services.settings.job_lease_seconds
        self.step_seconds = step_seconds

    def run_one(self) -> int | None:
        """Claim and run one due job; its id, or None when none was due."""
        job = queue.claim(self.services.db, self.name, self.lease, self.kinds)
        if job is None:
            return None
        self._run(job)
        return job.id

    def run_job(self, job_id: int) -> str:
        """Run job ``job_id`` if it can be claimed: ``ran``, ``stepped`` (handed back to go on), ``later``
        (waiting, or held by a live worker), ``over``."""
        job = queue.claim(self.services.db, self.name, self.lease, only=job_id)
        if job is not None:
            return "stepped" if self._run(job) else "ran"
        state = queue.get(self.services.db, job_id).state
        return "over" if state in queue.FINAL else "later"

    def _run(self, job: queue.Claimed) -> bool:
        """Run a claimed job until it ends or hands itself back; True when it was handed back."""
        log.info("job %d (%s) %s, attempt %d", job.id, job.kind, "goes on" if job.checkpoint else "started",
                 job.attempt)  # fmt: skip
        run = _Run(self, job)
        run.start()
        try:
            result = KINDS[job.kind](self.services, job.arguments, run)
        except Handback:
            handed = queue.hand_back(self.services.db, job.id, self.name)
            log.info("job %d handed back after a step", job.id)
            return handed
        except Stop:
            if run.cancel:
                queue.cancelled(self.services.db, job.id, self.name)
            log.warning("job %d stopped: %s", job.id, "cancelled" if run.cancel else "its lease was lost")
        except KutubxonaError as exc:
            retry = isinstance(exc, Unavailable)  # a store or database that did not answer may answer later
            state = queue.fail(self.services.db, job.id, self.name, str(exc), retry=retry)
            log.warning("job %d failed (%s): %s", job.id, state, exc)
        except Exception as exc:  # noqa: BLE001 - whatever broke, the job is recorded and may be tried again
            state = queue.fail(self.services.db, job.id, self.name, f"{type(exc).__name__}: {exc}", retry=True)
            log.exception("job %d failed (%s)", job.id, state)
        else:
            queue.finish(self.services.db, job.id, self.name, result)
            log.info("job %d done", job.id)
        finally:
            run.stop()
        return False

    def run(self, stop: threading.Event, poll_seconds: float = 2.0, until_idle: bool = False) -> int:
        """Queue what the schedules say is due and run jobs, until ``stop`` is set (or, ``until_idle``, none is due)."""
        ran = 0
        while not stop.is_set():
            fire_schedules(self.services)
            if self.run_one() is not None:
                ran += 1
            elif until_idle:
                break
            else:
                stop.wait(poll_seconds)
        return ran


class _Run:
    """One job running: a heartbeat thread renewing its lease, and what the job's kind is given (``kinds.Job``)."""

    def __init__(self, worker: Worker, job: queue.Claimed) -> None:
        self.worker, self.job = worker, job
        self.cancel = self.lost = False
        self.checkpoint = job.checkpoint
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"job-{job.id}-heartbeat", daemon=True)
        self._written = 0.0
        self._began = time.monotonic()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _beat(self) -> None:
        # renew at a third of the lease: two renewals may fail (a slow database) before it lapses
        while not self._done.wait(self.worker.lease / 3):
            try:
                held, cancel = queue.renew(self.worker.services.db, self.job.id, self.worker.name, self.worker.lease)
            except Exception:  # noqa: BLE001 - a missed heartbeat is retried at the next beat
                log.exception("job %d: heartbeat failed", self.job.id)
                continue
            self.lost, self.cancel = not held, cancel

    def progress(self, done: int, total: Any) -> None:
        """Note progress (at most once a second) at a step boundary: stop the job when it was cancelled or
        taken over, hand it back when its steps are kept short and this one has run long enough."""
        if self.cancel or self.lost:
            raise Stop
        now = time.monotonic()
        last = total is not None and done >= total
        if now - self._written >= PROGRESS_SECONDS or last:
            self._written = now
            queue.progress(self.worker.services.db, self.job.id, self.worker.name, done, total)
        step = self.worker.step_seconds
        if step is not None and not last and now - self._began >= step:
            raise Handback

    def save(self, checkpoint: dict[str, Any]) -> None:
        """Remember where the job stands (the next step, or a worker taking over, starts there)."""
        self.checkpoint = checkpoint
        queue.save(self.worker.services.db, self.job.id, self.worker.name, checkpoint)
