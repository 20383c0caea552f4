#!/usr/bin/env python3
"""Set up and run Kutubxona on a fresh machine with nothing but python3.

    python3 dev.py run     # set up, load the sample collection, serve on http://127.0.0.1:5000
    python3 dev.py test    # set up (Python and system packages), run ruff and the whole test suite

Setup is idempotent: a virtual environment in .venv, reinstalled when pyproject.toml changes, and the
Debian packages the tests need, installed with apt-get when missing.  ``test`` also starts the
servers the tests talk to (Redis, RabbitMQ) when nothing answers on their ports.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
STAMP = VENV / ".kutubxona-installed"
# Debian packages the service uses: OCR in four languages, PDF tools, a font with Cyrillic (PDF albums)
SERVICE_PACKAGES = [
    "tesseract-ocr",
    "tesseract-ocr-uzb",
    "tesseract-ocr-uzb-cyrl",
    "tesseract-ocr-rus",
    "tesseract-ocr-eng",
    "poppler-utils",
    "fonts-dejavu-core",
]
# and those the tests add: a headless browser with its WebDriver for the site's tests, the
# PostgreSQL client tools of the backup drill, Docker for the image's test, the brokers the Celery
# runner's tests send jobs through, and yaz (yaz-marcdump reads back every export as another MARC
# library would)
SYSTEM_PACKAGES = [*SERVICE_PACKAGES, "chromium", "chromium-driver", "postgresql-client", "docker.io", "docker-compose",
                   "rabbitmq-server", "redis-server", "yaz"]  # fmt: skip


@dataclass(frozen=True)
class Service:
    """A server the tests talk to on loopback, and the command that starts it where nothing starts it
    (a container or CI machine without systemd; elsewhere the package's own unit has started it)."""

    name: str
    port: int
    start: tuple[str, ...]
    wait_seconds: float = 60.0


# Started only when nothing answers on the port: a second RabbitMQ node started beside a running one
# fails, but on its way out deletes the running node's pid file.
TEST_SERVICES = [
    Service("Redis", 6379, ("redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379",
                            "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis",
                            "--logfile", "/var/log/redis/redis-server.log")),
    Service("RabbitMQ", 5672, ("rabbitmq-server", "-detached")),  # as root, the script runs it as rabbitmq
]  # fmt: skip


def say(message: str) -> None:
    print(f"[dev] {message}", flush=True)


def run(*cmd: str | Path, **kwargs) -> None:  # noqa: ANN003
    subprocess.run([str(c) for c in cmd], check=True, **kwargs)


def apt_install(packages: list[str]) -> None:
    """Install Debian packages (as root, or through sudo)."""
    prefix = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    say(f"installing Debian packages: {' '.join(packages)}")
    run(*prefix, "apt-get", "update", "-qq", env=env)
    run(*prefix, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages, env=env)


def ensure_venv() -> None:
    """Create .venv and install the project into it when pyproject.toml has changed."""
    if not (BIN / "python").exists():
        say("creating .venv")
        try:
            run(sys.executable, "-m", "venv", VENV)
        except subprocess.CalledProcessError:
            shutil.rmtree(VENV, ignore_errors=True)
            apt_install([f"python3.{sys.version_info.minor}-venv"])
            run(sys.executable, "-m", "venv", VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == digest:
        return
    say("installing Python packages into .venv")
    run(BIN / "python", "-m", "pip", "install", "-q", "--upgrade", "pip")
    run(BIN / "python", "-m", "pip", "install", "-q", "-e", f"{ROOT}[test]")
    STAMP.write_text(digest)


def installed(package: str) -> bool:
    """True when the Debian package is installed."""
    if shutil.which("dpkg-query") is None:
        return False
    done = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
    return done.returncode == 0 and "install ok installed" in done.stdout


def ensure_system_packages(packages: list[str] = SYSTEM_PACKAGES) -> None:
    """Install the Debian packages (by default those the tests need), when they are missing."""
    missing = [pkg for pkg in packages if not installed(pkg)]
    if missing:
        apt_install(missing)


def listening(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts connections on ``host:port``."""
    try:
        socket.create_connection((host, port), timeout=2).close()
        return True
    except OSError:
        return False


def ensure_services(services: list[Service] = TEST_SERVICES) -> list[str]:
    """Start each service nothing answers for (a running one is left alone); what is still down, and why."""
    down = []
    for service in services:
        if listening(service.port):
            continue
        prefix = [] if os.geteuid() == 0 else ["sudo"]
        say(f"starting {service.name} (nothing answers on 127.0.0.1:{service.port})")
        error = ""
        try:
            done = subprocess.run([*prefix, *service.start], capture_output=True, text=True, timeout=120)
            if done.returncode:
                error = ((done.stderr + done.stdout).strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        except (OSError, subprocess.TimeoutExpired) as exc:
            error = str(exc)
        deadline = time.monotonic() + service.wait_seconds
        while not error and not listening(service.port) and time.monotonic() < deadline:
            time.sleep(0.5)
        if not listening(service.port):
            why = f"{service.name} did not start on 127.0.0.1:{service.port}" + (f": {error}" if error else "")
            say(f"{why}; the tests that need it will be skipped")
            down.append(why)
    return down


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("run", "test", "setup"):
        print(__doc__)
        return 2
    os.chdir(ROOT)
    ensure_venv()
    if argv[0] == "setup":
        ensure_system_packages()
        return 0
    if argv[0] == "run":
        ensure_system_packages(SERVICE_PACKAGES)
        run(BIN / "kutubxona", "sample", "load")
        os.execv(BIN / "kutubxona", [str(BIN / "kutubxona"), "serve", *argv[1:]])
    ensure_system_packages()
    ensure_services()
    run(BIN / "ruff", "check", ".")
    return subprocess.run([str(BIN / "pytest"), *argv[1:]]).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
