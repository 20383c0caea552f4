"""Probes and checks: /healthz, /readyz and `kutubxona check`, against services that answer, refuse or hang."""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Cli, require, serving
from tests.web.test_site import get


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections and never says a word (a hung database)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


def test_healthz_and_readyz_answer_when_all_is_well(live: str):
    status, headers, body = get(live + "/healthz")
    assert (status, json.loads(body)) == (200, {"status": "ok"}) and "no-store" in headers["Cache-Control"]
    status, _, body = get(live + "/readyz")
    ready = json.loads(body)
    assert status == 200 and ready["status"] == "ready"
    assert {c["name"]: c["status"] for c in ready["checks"]} == {"database": "ok", "store": "ok", "search": "ok"}


def test_readyz_on_the_scale_out_services(make_app, moto_server: str, osmem_url: str):  # noqa: ANN001
    app = make_app(STORAGE_URL=f"s3://kx-ready-{uuid.uuid4().hex[:8]}", S3_ENDPOINT=moto_server, SEARCH_URL=osmem_url)
    with serving(app) as url:
        status, _, body = get(url + "/readyz")
    checks = {c["name"]: c for c in json.loads(body)["checks"]}
    assert status == 200 and checks["store"]["detail"].startswith("s3://kx-ready-")
    assert checks["search"]["status"] == "ok" and checks["search"]["detail"].startswith("elasticsearch")


def _unreachable_database(make_app, port: int) -> str:  # noqa: ANN001
    return make_app(DATABASE_URL=f"postgresql+psycopg://postgres@127.0.0.1:{port}/test")


def test_readyz_is_503_when_the_database_refuses(make_app):  # noqa: ANN001
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    with serving(_unreachable_database(make_app, port)) as url:
        status, headers, body = get(url + "/readyz")
        assert get(url + "/healthz")[0] == 200  # the process itself is fine
    answer = json.loads(body)
    checks = {c["name"]: c for c in answer["checks"]}
    assert status == 503 and answer["status"] == "unavailable" and headers["Retry-After"] == "10"
    assert checks["database"]["status"] == "failed" and "OperationalError" in checks["database"]["detail"]
    assert checks["store"]["status"] == "ok" and checks["search"]["status"] == "ok"


def test_readyz_gives_up_on_a_database_that_hangs(make_app, silent_port: int):  # noqa: ANN001
    with serving(_unreachable_database(make_app, silent_port)) as url:
        started = time.monotonic()
        status, _, body = get(url + "/readyz")
        took = time.monotonic() - started
    checks = {c["name"]: c for c in json.loads(body)["checks"]}
    assert status == 503 and checks["database"]["detail"] == "no answer within 2 s"
    assert took < 5  # the probe answers in its own time, not the database's


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
