"""What a job can be: each kind calls the action the command line calls, and is safe to repeat.

An import repeated after a crash finds its records already written (matched and unchanged); OCR
does again the files still pending; a reindex and a harvest resume where they stood; releasing
embargoes opens what is due and nothing twice.  A kind reports how far it has come through
``progress(done, total)``, which also raises ``Stop`` when the job was cancelled or its lease lost.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from repository.actions import files, harvesting, searching
from repository.actions.importing import ImportOptions
from repository.jobs.queue import JobError

if TYPE_CHECKING:
    from repository.services import Services

Progress = Callable[[int, int | None], None]
Kind = Callable[["Services", dict[str, Any], Progress], dict[str, Any]]


class Stop(Exception):  # noqa: N818 - a signal to stop, not an error
    """The job must stop at this step: it was cancelled, or another worker holds it now."""


def import_file(services: Services, args: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Import a file kept in the object store (``object``, its ``name``) with the import's ``options``."""
    options = dict(args.get("options", {}))
    for name in ("sets", "match"):
        if name in options:
            options[name] = tuple(options[name])
    size = services.store.size(args["object"])
    with tempfile.TemporaryDirectory(prefix="kutubxona-job-") as folder:
        path = Path(folder) / Path(args.get("name") or "import").name
        with services.store.open(args["object"]) as source, open(path, "wb") as target:
            for chunk in iter(lambda: source.read(1 << 20), b""):
                target.write(chunk)
        report = services.importer().import_file(path, ImportOptions(**options),
                                                 progress=lambda read, _records: progress(read, size))  # fmt: skip
    if report.error:
        raise JobError(report.error)  # the file cannot be read: trying again would not help
    return report.as_json()


def ocr(services: Services, args: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Extract the text of the files of record ``record`` (all records when none) still pending or failed."""
    ids = files.files_to_extract(services, args.get("record"), redo=bool(args.get("redo")))
    done = 0

    def each(_row: Any) -> None:
        nonlocal done
        done += 1
        progress(done, len(ids))

    progress(0, len(ids))
    failed = files.extract_texts(services, ids, args.get("languages"), each=each)
    return {"files": len(ids), "failed": failed}


def reindex(services: Services, args: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Rebuild the search index (resuming an interrupted rebuild unless ``restart``)."""
    return searching.reindex(services, restart=bool(args.get("restart")), progress=progress)


def harvest(services: Services, args: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Harvest source ``source`` (``full`` for a full run, within ``max_delete``), resuming an interrupted run."""
    limits = {k: args[k] for k in ("max_delete", "allow_mass_delete") if k in args}
    report = harvesting.run(services, args["source"], full=bool(args.get("full")),
                            progress=lambda run, _page: progress(run.records, None), **limits)  # fmt: skip
    if report.error:  # the source did not answer or answered nonsense: tried again later, where it stood
        raise RuntimeError(f"harvest of {args['source']} failed: {report.error}")
    return report.as_json()


def release_embargoes(services: Services, args: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Open every file whose embargo has ended."""
    return {"released": files.release(services)}


KINDS: dict[str, Kind] = {
    "import": import_file,
    "ocr": ocr,
    "reindex": reindex,
    "harvest": harvest,
    "release-embargoes": release_embargoes,
}
