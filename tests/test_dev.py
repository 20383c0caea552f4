"""The test command on a fresh clone: ``dev.py test`` starts the servers the tests talk to when nothing
answers on their ports (and leaves running ones alone), and a run's last line names every test skipped
for a missing tool, with the reason."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import dev
from tests.conftest import free_port, require

ROOT = Path(__file__).resolve().parents[1]


def test_a_service_that_answers_is_left_alone(tmp_path: Path):
    started = tmp_path / "started"
    touch = (sys.executable, "-c", f"open({str(started)!r}, 'w')")  # what a start would leave behind
    running = [s for s in dev.TEST_SERVICES if dev.listening(s.port)]  # this machine's Redis and RabbitMQ
    require(bool(running), "a running Redis or RabbitMQ")
    assert dev.ensure_services([replace(s, start=touch) for s in running]) == []
    assert not started.exists()  # never started a second time: RabbitMQ's would delete the running one's pid file


def test_a_service_that_is_down_is_started_once_with_its_command(tmp_path: Path):
    require(shutil.which("redis-server") is not None, "redis-server (Debian redis-server)")
    (redis,) = [s for s in dev.TEST_SERVICES if s.name == "Redis"]
    port = free_port()
    # the command dev.py runs, on a free port, keeping its pid, log and folder here (not the machine's)
    start = tuple(str(port) if arg == str(redis.port) else arg for arg in redis.start)
    start += ("--pidfile", str(tmp_path / "redis.pid"), "--logfile", str(tmp_path / "log"), "--dir", str(tmp_path))
    ours = replace(redis, port=port, start=start)
    assert not dev.listening(port)
    try:
        assert dev.ensure_services([ours]) == []
        assert dev.listening(port)
        pid = (tmp_path / "redis.pid").read_text().strip()
        assert dev.ensure_services([ours]) == []  # already running: nothing started again
        assert (tmp_path / "redis.pid").read_text().strip() == pid
    finally:
        if (tmp_path / "redis.pid").exists():
            os.kill(int((tmp_path / "redis.pid").read_text()), 15)  # the Redis this test started, by its pid
            for _ in range(50):
                if not dev.listening(port):
                    break
                time.sleep(0.1)


def test_a_service_that_cannot_start_is_named_with_the_reason(tmp_path: Path):
    port = free_port()
    nowhere = dev.Service("Frobnicator", port, (str(tmp_path / "no-such-server"),), wait_seconds=1)
    (why,) = dev.ensure_services([nowhere])
    assert why.startswith(f"Frobnicator did not start on 127.0.0.1:{port}: ") and "no-such-server" in why
    sleeps = dev.Service("Sleeper", port, (sys.executable, "-c", "pass"), wait_seconds=1)  # starts, never listens
    assert dev.ensure_services([sleeps]) == [f"Sleeper did not start on 127.0.0.1:{port}"]


SKIPPING = """
import pytest
from tests.conftest import require

@pytest.fixture(scope="session")
def frob():
    require(False, "frobnicator (Debian frob)")

def test_a(frob): pass
def test_b(frob): pass
def test_c(): require(False, "the widget tool")
def test_d(): pytest.skip("skipped for a reason of its own")
def test_e(): pass
"""


def run_pytest(folder: Path, source: str, **env: str) -> subprocess.CompletedProcess:
    """pytest on one test file in ``folder``, with this suite's hooks, as a fresh process."""
    (folder / "conftest.py").write_text("from tests.conftest import pytest_runtest_logreport, pytest_sessionfinish"
                                        "  # noqa: F401\n")  # fmt: skip
    (folder / "test_x.py").write_text(source)
    clean = {k: v for k, v in os.environ.items() if k != "KUTUBXONA_REQUIRE_ALL"}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--rootdir", str(folder),
                           str(folder / "test_x.py")], cwd=folder, capture_output=True, text=True,
                          env={**clean, "PYTHONPATH": str(ROOT), **env}, timeout=120)  # fmt: skip


def test_the_last_line_names_every_test_skipped_for_a_missing_tool(tmp_path: Path):
    done = run_pytest(tmp_path, SKIPPING)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    assert "1 passed, 4 skipped" in lines[-2]
    assert lines[-1] == (
        "3 skipped for want of a tool (KUTUBXONA_REQUIRE_ALL=1 fails them): frobnicator (Debian frob): "
        "test_x.py::test_a, test_x.py::test_b; the widget tool: test_x.py::test_c"
    )  # test_d skipped for a reason of its own, which pytest's summary gives
    required = run_pytest(tmp_path, SKIPPING, KUTUBXONA_REQUIRE_ALL="1")
    assert "1 failed, 1 passed, 1 skipped, 2 errors" in required.stdout.strip().splitlines()[-1]  # as CI runs
    quiet = run_pytest(tmp_path, "def test_e(): pass\n")
    assert quiet.stdout.strip().splitlines()[-1].startswith("=") and "1 passed" in quiet.stdout
