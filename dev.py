#!/usr/bin/env python3
"""Set up and run Kutubxona on a fresh machine with nothing but python3.

    python3 dev.py run     # set up, load the sample collection, serve on http://127.0.0.1:5000
    python3 dev.py test    # set up (Python and system packages), run ruff and the whole test suite

Setup is idempotent: a virtual environment in .venv, reinstalled when pyproject.toml changes, and the
Debian packages the tests need, installed with apt-get when missing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
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
# PostgreSQL client tools of the backup drill, and Docker for the image's test
SYSTEM_PACKAGES = [*SERVICE_PACKAGES, "chromium", "chromium-driver", "postgresql-client", "docker.io", "docker-compose"]


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
    run(BIN / "ruff", "check", ".")
    return subprocess.run([str(BIN / "pytest"), *argv[1:]]).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
