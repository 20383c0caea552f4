"""Shared fixtures: a migrated database (SQLite by default, PostgreSQL when
``KUTUBXONA_TEST_DATABASE_URL`` is set), an app on it, the CLI, the sample collection, and
moto_server: a real S3 API over HTTP on a free loopback port."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from sqlalchemy import text
from werkzeug.serving import make_server

from repository import cli as cli_module
from repository import create_app
from repository.catalogue import models  # noqa: F401  (registers the tables)
from repository.db import Base, Database
from repository.metadata.sample import build as build_sample

PG_URL = os.environ.get("KUTUBXONA_TEST_DATABASE_URL", "")
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
BASE_URL = "http://kutubxona.test"
REPO_ID = "test.kutubxona.uz"


def shared_file(relative: str) -> Path | None:
    """A file of ../shared, or None when that folder is not beside the project (a fresh clone).

    With KUTUBXONA_REQUIRE_ALL, as in CI, a missing file fails the test: the official schemas
    must not silently stop being checked.
    """
    path = SHARED / relative
    if path.exists():
        return path
    if os.environ.get("KUTUBXONA_REQUIRE_ALL"):
        pytest.fail(f"required for this test: {path} (../shared beside the project)")
    return None


#: why ``require`` skipped -> the tests skipped for it, in the order they ran
SKIPPED_FOR_MISSING: dict[str, list[str]] = {}


def require(condition: bool, reason: str) -> None:
    """Skip when a tool is missing, unless KUTUBXONA_REQUIRE_ALL makes that a failure."""
    __tracebackhide__ = True
    if condition:
        return
    if os.environ.get("KUTUBXONA_REQUIRE_ALL"):
        pytest.fail(f"required for this test: {reason}")
    SKIPPED_FOR_MISSING.setdefault(reason, [])  # each test it skips is noted by the hook below
    pytest.skip(reason)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Note each test skipped by ``require``, in its body or a fixture's (a session fixture skips every
    test that uses it with the same reason, without calling ``require`` again)."""
    if report.skipped and isinstance(report.longrepr, tuple):
        reason = report.longrepr[2].removeprefix("Skipped: ")
        if reason in SKIPPED_FOR_MISSING:
            SKIPPED_FOR_MISSING[reason].append(report.nodeid)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> Iterator[None]:
    """After pytest's own summary, one last line with every test skipped for a missing tool and why,
    so that a run on a machine without them (a fresh clone) never passes while hiding a skip."""
    result = yield
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    count = sum(len(tests) for tests in SKIPPED_FOR_MISSING.values())
    if count and reporter is not None:
        why = "; ".join(f"{reason}: {', '.join(tests)}" for reason, tests in SKIPPED_FOR_MISSING.items() if tests)
        reporter.write_line(f"{count} skipped for want of a tool (KUTUBXONA_REQUIRE_ALL=1 fails them): {why}",
                            yellow=True)  # fmt: skip
    return result


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database with every migration applied: a template SQLite file, or the test PostgreSQL."""
    if PG_URL:
        db = Database(PG_URL)
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        db.upgrade()
        db.dispose()
        return PG_URL
    template = tmp_path_factory.mktemp("db") / "template.sqlite3"
    db = Database(f"sqlite:///{template}")
    db.upgrade()
    db.dispose()
    return str(template)


@pytest.fixture
def db_url(migrated: str, tmp_path: Path) -> Iterator[str]:
    """An empty, migrated database for one test."""
    if PG_URL:
        db = Database(PG_URL)
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.dispose()
        yield PG_URL
        return
    path = tmp_path / "test.sqlite3"
    shutil.copy(migrated, path)
    yield f"sqlite:///{path}"


@pytest.fixture
def make_app(db_url: str, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Build apps on the test database (several may share it, like workers); all disposed at the end."""
    apps: list[Flask] = []

    def build(**overrides: object) -> Flask:
        conf = {
            "DATABASE_URL": db_url,
            "VAR_DIR": str(tmp_path / "var"),
            "STORAGE_URL": (tmp_path / "objects").as_uri(),
            "BASE_URL": BASE_URL,
            "REPOSITORY_ID": REPO_ID,
            "AUTO_MIGRATE": "no",
            "IMPORT_CHUNK": 50,
            **overrides,
        }
        app = create_app(conf)
        app.config["TESTING"] = True
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["kutubxona"].db.dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask], request: pytest.FixtureRequest) -> Flask:
    """The app on a fresh database, objects in a temporary folder, with the settings of the test's
    ``@pytest.mark.settings(NAME=value)`` (``HARVEST_ALLOW_PRIVATE`` for a source on loopback)."""
    marker = request.node.get_closest_marker("settings")
    return make_app(**(marker.kwargs if marker else {}))


class Cli:
    """Runs ``kutubxona`` commands against the test app."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.runner = CliRunner()

    def __call__(self, *args: str, code: int | None = 0) -> Result:
        """Run a command; check its exit status unless ``code`` is None."""
        cli_module._SERVICES = self.app.extensions["kutubxona"]
        result = self.runner.invoke(cli_module.main, [str(a) for a in args], catch_exceptions=False)
        if code is not None:
            assert result.exit_code == code, result.output
        return result


@pytest.fixture
def cli(app: Flask) -> Iterator[Cli]:
    """The ``kutubxona`` command bound to the test app."""
    yield Cli(app)
    cli_module._SERVICES = None


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample collection's files."""
    folder = tmp_path_factory.mktemp("sample")
    build_sample(folder)
    return folder


@pytest.fixture
def services(app: Flask):  # noqa: ANN201
    """The app's services (database, store)."""
    return app.extensions["kutubxona"]


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve ``app`` over real HTTP on a free loopback port (threaded) while the block runs."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture
def live(app: Flask) -> Iterator[str]:
    """The test app served over real HTTP on a loopback port."""
    with serving(app) as url:
        yield url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """The endpoint URL of a moto_server started for the session."""
    exe = shutil.which("moto_server") or str(Path(sys.executable).parent / "moto_server")
    require(Path(exe).exists(), "moto_server (pip install 'moto[server]')")
    port = free_port()
    proc = subprocess.Popen([exe, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.1)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def osmem_url() -> Iterator[str]:
    """The URL of an osmem-server (an in-memory OpenSearch API) started for the session."""
    try:
        from osmem_server import OsmemError, OsmemServer
    except ImportError:
        require(False, "osmem-server (pip install osmem-server)")
    try:
        server = OsmemServer.start(japanese=False)
    except OsmemError as exc:
        require(False, f"osmem-server would not start: {exc}")
    with server:
        yield server.url
