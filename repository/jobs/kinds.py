"""What a job can be: each kind calls the action the command line calls, in steps, and is safe to repeat.

Every kind commits its work as it goes and knows where it stands, so that a job handed back after
a step (small tasks on Celery) or taken over from a dead worker goes on where it stood: an import
in its own batch after its last stored record (``Importer.resume``), OCR after the last stored
page of the file it was on, a reindex and a harvest from their saved positions; releasing
embargoes opens what is due and nothing twice.  A kind calls ``job.progress(done, total)`` at
each step boundary (which raises ``Stop`` when the job was cancelled or its lease lost, and
``Handback`` when its step has run long enough) and ``job.save(checkpoint)`` to note what the
next step needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from repository.actions import files, harvesting, searching
from repository.actions.importing import ImportOptions
from repository.jobs.queue import JobError
from repository.storage import local_copy

if TYPE_CHECKING:
    from collections.abc import Callable

    from harvest.runner import RunReport
    from repository.services import Services


class Job(Protocol):
    """What a running job's kind is given by its worker."""

    checkpoint: dict[str, Any]  # what an earlier step saved; {} at first

    def progress(self, done: int, total: int | None) -> None:
        """Note progress at a step boundary; may raise ``Stop`` or ``Handback``."""

    def save(self, checkpoint: dict[str, Any]) -> None:
        """Remember where the job stands."""


class Stop(Exception):  # noqa: N818 - a signal to stop, not an error
    """The job must stop at this step: it was cancelled, or another worker holds it now."""


def import_file(services: Services, args: dict[str, Any], job: Job) -> dict[str, Any]:
    """Import a file kept in the object store (``object``, its ``name``) with the import's ``options``.

    The batch's id is saved the moment it exists; the steps after the first resume that batch.
    """
    size = services.store.size(args["object"])
    importer = services.importer()
    importer.opened = lambda batch: job.save({"batch": batch})

    def progress(read: int, _records: int) -> None:
        job.progress(read, size)

    if "batch" in job.checkpoint:
        report = importer.resume(job.checkpoint["batch"], progress)
    else:
        options = dict(args.get("options", {}))
        for name in ("sets", "match"):
            if name in options:
                options[name] = tuple(options[name])
        with local_copy(services.store, args["object"], args.get("name") or "import") as path:
            report = importer.import_file(path, ImportOptions(**options), progress)
    if report.error:
        raise JobError(report.error)  # the file cannot be read: trying again would not help
    return report.as_json()


def ocr(services: Services, args: dict[str, Any], job: Job) -> dict[str, Any]:
    """Extract the text of the files of record ``record`` (all records when none) still pending or failed.

    The files are chosen once, at the first step (``redo`` would choose them all again); a step
    ends after a batch of recognised pages, and the next goes on with the same file.
    """
    if "files" not in job.checkpoint:
        ids = files.files_to_extract(services, args.get("record"), redo=bool(args.get("redo")))
        job.save({"files": ids, "next": 0, "failed": 0})
    state = dict(job.checkpoint)
    ids = state["files"]
    for index in range(state["next"], len(ids)):

        def pages_done(stored: int, total: int, index: int = index) -> None:
            if stored < total:  # after its last page the file is noted done first
                job.progress(index, len(ids))

        state["failed"] += files.extract_texts(services, [ids[index]], args.get("languages"), pages_done=pages_done)
        state["next"] = index + 1
        job.save(state)
        job.progress(index + 1, len(ids))
    return {"files": len(ids), "failed": state["failed"]}


def reindex(services: Services, args: dict[str, Any], job: Job) -> dict[str, Any]:
    """Rebuild the search index (resuming an interrupted rebuild unless ``restart``, asked of the first step)."""
    restart = bool(args.get("restart")) and not job.checkpoint.get("begun")

    def progress(done: int, total: int) -> None:
        if not job.checkpoint.get("begun"):
            job.save({"begun": True})
        job.progress(done, total)

    return searching.reindex(services, restart=restart, progress=progress)


def harvest(services: Services, args: dict[str, Any], job: Job) -> dict[str, Any]:
    """Harvest source ``source`` (``full`` for a full run, within ``max_delete``), resuming an interrupted run.

    A step ends after a page; the figures of the steps so far are saved with each page and added up.
    """
    limits = {k: args[k] for k in ("max_delete", "allow_mass_delete") if k in args}
    before = job.checkpoint.get("so_far", {})
    full = bool(args.get("full")) and not job.checkpoint  # the steps after the first go on with its run

    def progress(run: RunReport, _page: Any) -> None:
        job.save({"so_far": _added(before, run.as_json())})
        job.progress(run.records + before.get("records", 0), None)

    report = harvesting.run(services, args["source"], full=full, progress=progress, **limits)
    if report.error:  # the source did not answer or answered nonsense: tried again later, where it stood
        raise RuntimeError(f"harvest of {args['source']} failed: {report.error}")
    return _added(before, report.as_json())


def _added(before: dict[str, Any], step: dict[str, Any]) -> dict[str, Any]:
    """The figures of a harvest's steps so far and this one's, added up (the rest as this step says)."""
    out = dict(step)
    for key, value in before.items():
        if isinstance(value, int | float | list) and not isinstance(value, bool) and key in step:
            out[key] = value + step[key]
    return out


def release_embargoes(services: Services, args: dict[str, Any], job: Job) -> dict[str, Any]:
    """Open every file whose embargo has ended."""
    return {"released": files.release(services)}


KINDS: dict[str, Callable[[Services, dict[str, Any], Job], dict[str, Any]]] = {
    "import": import_file,
    "ocr": ocr,
    "reindex": reindex,
    "harvest": harvest,
    "release-embargoes": release_embargoes,
}
