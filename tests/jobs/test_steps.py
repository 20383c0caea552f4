"""Jobs in small steps (as the Celery runner takes them): every kind handed back after each step
ends as one run would, going on where it stood rather than starting again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from repository.catalogue.models import FilePage, Record
from repository.jobs import queue
from repository.jobs.worker import Worker
from tests.conftest import Cli
from tests.fulltext.pages import TEXTS, page_image
from tests.harvest.test_runner import Source, assert_mirror, source  # noqa: F401 - the fixture
from tests.helpers import import_json, marc, write


def in_steps(services, kind: str, arguments: dict) -> tuple[int, dict]:  # noqa: ANN001
    """Run a job one step per claim, as small Celery tasks would; (steps taken, its result)."""
    job_id = queue.enqueue(services.db, kind, arguments, "test")
    worker = Worker(services, name="stepper", step_seconds=0)
    steps = 1
    while (outcome := worker.run_job(job_id)) == "stepped":
        steps += 1
        assert steps < 200, "the job does not get anywhere"
    done = queue.get(services.db, job_id)
    assert (outcome, done.state, done.attempts) == ("ran", "done", 1), done.error
    return steps, json.loads(done.result)


def test_an_import_in_steps_of_a_chunk(make_app, tmp_path: Path):  # noqa: ANN001
    app = make_app(IMPORT_CHUNK=100, IMPORT_WORKERS=0)
    cli, services = Cli(app), app.extensions["kutubxona"]
    path = write(tmp_path / "a.mrc", *(marc(f"S{n:04}", f"Kitob {n}") for n in range(1050)))
    with path.open("rb") as fh:
        key = services.store.put(fh).key
    steps, result = in_steps(services, "import", {"object": key, "name": "a.mrc", "options": {}})
    assert steps == 11 and (result["batch"], result["records"], result["created"]) == (1, 1050, 1050)
    assert json.loads(cli("batches", "show", "1", "--json").output)["status"] == "done"


def test_ocr_in_steps_of_a_batch_of_pages(cli: Cli, services, tmp_path: Path):  # noqa: ANN001
    import_json(cli, write(tmp_path / "b.mrc", marc("F1", "Kitob")))
    frames = [Image.open(page_image(TEXTS[lang], tmp_path / f"{n}.png")) for n, lang in enumerate(["eng", "rus"] * 3)]
    tiff = tmp_path / "book.tiff"
    frames[0].save(tiff, save_all=True, append_images=frames[1:], dpi=(300, 300))
    cli("attach", "F1", tiff, "--ocr", "never")
    steps, result = in_steps(services, "ocr", {"record": "F1", "redo": True, "languages": "eng+rus"})
    assert result == {"files": 1, "failed": 0} and steps >= 3  # redo chose the file once, at the first step
    with services.db.reading() as s:
        pages = s.scalars(select(FilePage.text).order_by(FilePage.page)).all()
    assert len(pages) == 6 and "catalogue" in pages[4] and "каталог" in pages[5]


def test_a_reindex_in_steps_restarts_once(cli: Cli, services, tmp_path: Path):  # noqa: ANN001
    import_json(cli, write(tmp_path / "r.mrc", *(marc(f"R{n:04}", f"Tarix {n}") for n in range(4200))))
    steps, result = in_steps(services, "reindex", {"restart": True})
    assert steps == 3 and result["indexed"] == 4200  # 2,000 records a step (searching.WRITE)
    found = json.loads(cli("search", "tarix", "--json").output)
    assert found["total"] == 4200


@pytest.mark.settings(HARVEST_ALLOW_PRIVATE="yes")  # the source is served on loopback
def test_a_harvest_in_steps_of_a_page_adds_up_to_one_run(cli: Cli, services, source: Source):  # noqa: F811
    cli("harvest", "add", "once", source.url)
    cli("harvest", "add", "steps", source.url)
    whole = json.loads(cli("harvest", "run", "once", "--json").stdout)
    steps, result = in_steps(services, "harvest", {"source": "steps", "full": True})
    assert steps == whole["pages"] + 1  # each page a step, and the last one ends the run
    for key in ("pages", "records", "created", "deleted", "set_aside"):
        assert result[key] == whole[key], key
    assert_mirror(source, services, "steps", "oai_dc")
    with services.db.reading() as s:
        ours = s.scalar(select(func.count()).select_from(Record).where(Record.local_id.startswith("steps:")))
    assert ours == whole["created"]
