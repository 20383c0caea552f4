"""Background jobs: ``kutubxona worker`` and ``kutubxona jobs list|show|cancel``; ``queued`` for ``--background``."""

from __future__ import annotations

import json
import signal
import threading
from typing import Any

import click

from repository.cli import Fatal, main, services, utc_text
from repository.jobs import dispatch, queue, schedules
from repository.jobs.kinds import KINDS
from repository.jobs.worker import Worker


def queued(kind: str, arguments: dict[str, Any], what: str) -> None:
    """Queue a job for ``kutubxona worker`` (the ``--background`` of a command) and say so."""
    job_id = dispatch.submit(services(), kind, arguments, requested_by="cli")
    click.echo(f"job {job_id} queued: {what} (kutubxona jobs show {job_id})")


#: ``--background`` on a command whose work can run as a job
background_option = click.option("--background", is_flag=True,
                                 help="queue it as a job for `kutubxona worker` and return")  # fmt: skip


def schedule_options(command):  # noqa: ANN001, ANN201 - a click decorator
    """--daily HH:MM, --every MINUTES or --off, for a command that schedules a job."""
    command = click.option("--off", is_flag=True, help="switch the schedule off")(command)
    command = click.option("--every", type=click.IntRange(1), metavar="MINUTES", help="every so many minutes")(command)
    return click.option("--daily", metavar="HH:MM", help="every day at this time (UTC)")(command)


def scheduled(name: str, kind: str, arguments: dict[str, Any], daily: str | None, every: int | None, off: bool) -> None:
    """Set or remove schedule ``name`` as the options say, and say so."""
    if off:
        click.echo(f"{name}: " + ("switched off" if schedules.switch_off(services().db, name) else "no schedule on"))
        return
    when = schedules.When(daily, every)
    first = schedules.put(services().db, name, kind, arguments, when)
    click.echo(f"{name}: {when}, next at {utc_text(first)} (queued by a running kutubxona worker)")


@main.command("worker")
@click.option("--until-idle", is_flag=True, help="stop when no job is due instead of waiting for more")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(sorted(KINDS)), help="only jobs of this kind")
@click.option("--celery", is_flag=True, help="take jobs from the broker (KUTUBXONA_BROKER_URL) as a Celery worker")
def worker_cmd(until_idle: bool, kinds: tuple[str, ...], celery: bool) -> None:
    """Run background jobs, one at a time, until stopped (SIGTERM or Ctrl-C end it after the current job)."""
    if celery:
        svc = services()
        if not svc.settings.broker_url:
            raise Fatal("--celery needs KUTUBXONA_BROKER_URL (amqp://... or redis://...)")
        from repository.jobs import celery_runner

        celery_runner.work(svc)
        return
    worker = Worker(services(), kinds=kinds)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    click.echo(f"worker {worker.name}: lease {worker.lease} s" + (f", kinds {', '.join(kinds)}" if kinds else ""))
    ran = worker.run(stop, until_idle=until_idle)
    click.echo(f"worker {worker.name}: {ran} jobs run")


@main.group("jobs")
def jobs_group() -> None:
    """Background jobs: what is queued, running and done."""


@jobs_group.command("list")
@click.option("--state", type=click.Choice(queue.STATES))
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True)
def jobs_list(state: str | None, limit: int, as_json: bool) -> None:
    """The newest jobs, newest first."""
    jobs = queue.listed(services().db, state, limit)
    if as_json:
        click.echo(json.dumps([queue.as_json(j) for j in jobs], ensure_ascii=False))
        return
    for j in jobs:
        done = f"{j.progress_done}/{j.progress_total}" if j.progress_total else str(j.progress_done or "")
        click.echo(
            f"{j.id}\t{j.state}\t{j.kind}\t{done}\t{utc_text(j.created)}\t{j.error.splitlines()[0] if j.error else ''}"
        )


@jobs_group.command("show")
@click.argument("job_id", type=int)
def jobs_show(job_id: int) -> None:
    """One job as JSON: arguments, state, progress, attempts, worker, result or error."""
    click.echo(json.dumps(queue.as_json(queue.get(services().db, job_id)), ensure_ascii=False, indent=2))


@jobs_group.command("schedules")
@click.option("--json", "as_json", is_flag=True)
def jobs_schedules(as_json: bool) -> None:
    """The schedules: what comes back, when next, and its last job."""
    rows = schedules.listed(services().db)
    if as_json:
        click.echo(json.dumps([{"name": r.name, "kind": r.kind, "arguments": json.loads(r.arguments),
                                "daily_at": r.daily_at, "every_minutes": r.every_minutes,
                                "next_run": utc_text(r.next_run), "last_job": r.last_job, "enabled": r.enabled}
                               for r in rows],
                              ensure_ascii=False))  # fmt: skip
        return
    for r in rows:
        when = schedules.When(r.daily_at, r.every_minutes) if r.enabled else "off"
        click.echo(f"{r.name}\t{when}\tnext {utc_text(r.next_run)}\tlast job {r.last_job or '-'}")


@jobs_group.command("cancel")
@click.argument("job_id", type=int)
def jobs_cancel(job_id: int) -> None:
    """Cancel a queued job, or ask a running one to stop at its next step."""
    click.echo(f"job {job_id}: {queue.cancel(services().db, job_id)}")
