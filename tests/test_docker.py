"""The application image: built here and run against this machine's PostgreSQL (docker/test.sh)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from tests.conftest import PG_URL, free_port, require

ROOT = Path(__file__).resolve().parents[1]


def test_the_image_migrates_loads_the_sample_and_serves_oai_and_search():
    require(shutil.which("docker") is not None and shutil.which("dockerd") is not None, "docker.io (dockerd)")
    require(bool(PG_URL), "PostgreSQL (KUTUBXONA_TEST_DATABASE_URL) for the container to use")
    url = make_url(PG_URL)
    server = url.render_as_string(hide_password=False).removesuffix(f"/{url.database}")  # the server, no database
    done = subprocess.run(
        ["docker/test.sh"], cwd=ROOT, capture_output=True, text=True, timeout=900,
        env={**os.environ, "KUTUBXONA_DOCKER_PG": server, "KUTUBXONA_DOCKER_PORT": str(free_port())},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "[docker-test] hadolint: the Dockerfile passes" in done.stdout
    assert "[docker-test] ok: migrated, sample loaded, Identify, ListRecords (100 records and a token)" in done.stdout
