"""Probes and checks: /healthz, /readyz and `kutubxona check`, against services that answer, refuse or hang."""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from tests.conftest import Cli, require, serving
from tests.web.test_site import get


def test_healthz_and_readyz_answer_when_all_is_well(live: str):
    status, headers, body = get(live + "/healthz")
    assert (status, json.loads(body)) == (200, {"status": "ok"}) and "no-store" in headers["Cache-Control"]
    status, headers, body = get(live + "/readyz")
    # ready or not, and nothing else: what each part answered is for the log and `kutubxona check`
    assert (status, json.loads(body)) == (200, {"status": "ready"}) and "no-store" in headers["Cache-Control"]


def test_readyz_on_the_scale_out_services(make_app, moto_server: str, osmem_url: str):  # noqa: ANN001
    bucket = f"kx-ready-{uuid.uuid4().hex[:8]}"
    app = make_app(STORAGE_URL=f"s3://{bucket}", S3_ENDPOINT=moto_server, SEARCH_URL=osmem_url)
    with serving(app) as url:
        status, _, body = get(url + "/readyz")
    assert (status, json.loads(body)) == (200, {"status": "ready"}) and bucket.encode() not in body
    checks = {c["name"]: c for c in json.loads(Cli(app)("check", "--json", code=None).output)["checks"]}
    assert checks["store"]["status"] == "ok" and checks["store"]["detail"] == f"s3://{bucket}"
    assert checks["search"]["status"] == "ok" and checks["search"]["detail"].startswith("elasticsearch")


def _unreachable_database(make_app, port: int) -> str:  # noqa: ANN001
    return make_app(DATABASE_URL=f"postgresql+psycopg://postgres@127.0.0.1:{port}/test")


def test_readyz_is_503_when_the_database_refuses_and_says_why_only_in_the_log(make_app, caplog):  # noqa: ANN001
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    app = _unreachable_database(make_app, port)
    with caplog.at_level(logging.WARNING, logger="repository.web.health"), serving(app) as url:
        status, headers, body = get(url + "/readyz")
        assert get(url + "/healthz")[0] == 200  # the process itself is fine
    assert (status, json.loads(body), headers["Retry-After"]) == (503, {"status": "unavailable"}, "10")
    [line] = [r.getMessage() for r in caplog.records if r.name == "repository.web.health"]
    assert line.startswith("not ready: database failed (OperationalError") and "store" not in line
    report = json.loads(Cli(app)("check", "--json", code=2).output)
    [database] = [c for c in report["checks"] if c["name"] == "database"]
    assert database["status"] == "failed" and "OperationalError" in database["detail"]


def test_check_ends_against_a_database_that_never_answers(silent_port: int, tmp_path: Path):
    # libpq waits for ever for a server that accepts and says nothing; the check's thread gives up
    # after 2 s, but the command could not exit while the connection attempt held on
    env = {**os.environ, "KUTUBXONA_VAR_DIR": str(tmp_path), "KUTUBXONA_AUTO_MIGRATE": "no",
           "KUTUBXONA_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{silent_port}/test"}  # fmt: skip
    script = Path(sys.executable).parent / "kutubxona"
    done = subprocess.run([script, "check", "--json"], env=env, capture_output=True, text=True, timeout=120)
    [database] = [c for c in json.loads(done.stdout)["checks"] if c["name"] == "database"]
    assert done.returncode == 2 and database["status"] == "failed", done.stderr


def test_readyz_gives_up_on_a_database_that_hangs_and_piles_up_no_threads(make_app, silent_port: int, caplog):  # noqa: ANN001
    app = _unreachable_database(make_app, silent_port)
    with caplog.at_level(logging.WARNING, logger="repository.web.health"), serving(app) as url:
        threads = _settled_thread_count()
        started = time.monotonic()
        status, _, body = get(url + "/readyz")
        took = time.monotonic() - started
        assert (status, json.loads(body)) == (503, {"status": "unavailable"})
        assert took < 5  # the probe answers in its own time, not the database's
        # a load balancer keeps asking, several at once: the database's probe is still pending, so each
        # waits for it (or answers not-ready) instead of starting another that hangs in its turn
        answers: list[int] = []
        callers = [threading.Thread(target=lambda: answers.append(get(url + "/readyz")[0])) for _ in range(6)]
        started = time.monotonic()
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join()
        assert answers == [503] * 6 and time.monotonic() - started < 5
        for _ in range(2):
            assert get(url + "/readyz")[0] == 503
        # the probes' own threads, one per part (database, store, search), and none left behind by each call
        assert _settled_thread_count() <= threads + 3
    assert any("database failed (no answer within 2 s)" in r.getMessage() for r in caplog.records)


def _settled_thread_count() -> int:
    """The threads of this process once the server's request threads have ended."""
    counts = []
    for _ in range(20):
        counts.append(threading.active_count())
        if counts[-3:] == [counts[-1]] * 3:
            break
        time.sleep(0.1)
    return counts[-1]


def test_check_command_reports_every_part(cli: Cli, make_app, tmp_path: Path):  # noqa: ANN001
    for tool in ("tesseract", "pdftotext", "pdftoppm"):
        require(shutil.which(tool) is not None, tool)
    result = cli("check", "--json")
    report = json.loads(result.output)
    names = [c["name"] for c in report["checks"]]
    assert names == ["configuration", "database", "store", "search", "ocr", "pdf tools", "pdf font"]
    assert report["status"] == "ok" and all(c["status"] == "ok" for c in report["checks"]), report
    text = cli("check").output
    assert text.splitlines()[0].startswith("ok") and "tesseract with uzb, uzb_cyrl, rus, eng" in text
    # a missing font is a warning (exit 1): everything serves but the PDF albums
    lacking = Cli(make_app(PDF_FONT=str(tmp_path / "none.ttf")))
    report = json.loads(lacking("check", "--json", code=1).output)
    [font] = [c for c in report["checks"] if c["name"] == "pdf font"]
    assert report["status"] == "warning" and font["status"] == "warning" and "none.ttf is missing" in font["detail"]
