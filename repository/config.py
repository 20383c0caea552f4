"""Every setting of Kutubxona, its default and one line of doc; read from ``KUTUBXONA_*`` variables.

The defaults run the embedded mode: SQLite and objects under ``./var``, embedded search.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Setting:
    """One configuration key: its default and what it means."""

    default: Any
    doc: str


#: Name (without the ``KUTUBXONA_`` prefix) -> setting.  The README's table is written from this.
SETTINGS: dict[str, Setting] = {
    "VAR_DIR": Setting("var", "folder for the embedded database, objects and the generated secret key"),
    "DATABASE_URL": Setting("", "SQLAlchemy URL; empty = SQLite file {VAR_DIR}/kutubxona.sqlite3"),
    "STORAGE_URL": Setting("", "object storage: file:///path or s3://bucket; empty = {VAR_DIR}/objects"),
    "S3_ENDPOINT": Setting("", "endpoint URL of an S3-compatible store (MinIO, Ceph RGW); empty = AWS"),
    "SEARCH_URL": Setting("", "Elasticsearch URL; empty = the embedded search"),
    "BASE_URL": Setting("http://127.0.0.1:5000", "public root of the site; the OAI base URL is {BASE_URL}/oai"),
    "REPOSITORY_ID": Setting("demo.kutubxona.uz", "DNS-style name in oai:{REPOSITORY_ID}:{local id}"),
    "REPOSITORY_NAME": Setting("Kutubxona demo repository", "human-readable name shown by Identify"),
    "ADMIN_EMAIL": Setting("admin@kutubxona.uz", "address of the repository's administrator"),
    "SECRET_KEY": Setting("", "signs resumption tokens and sessions; empty = generated once into VAR_DIR"),
    "AUTO_MIGRATE": Setting("auto", "apply pending migrations at start: auto (embedded SQLite only), yes, no"),
    "OAI_PAGE_SIZE": Setting(100, "records per OAI-PMH list page"),
    "OAI_TOKEN_TTL_HOURS": Setting(48, "lifetime of a resumption token chain, in hours"),
    "OAI_MAX_CONCURRENT": Setting(4, "list requests served at once per worker before answering 503"),
    "OAI_FRIENDS": Setting("", "space-separated base URLs announced in the friends description"),
    "IMPORT_CHUNK": Setting(1000, "records per transaction during an import"),
    "IMPORT_WORKERS": Setting(2, "processes preparing ISO 2709 records while a large import stores them; 0 = none"),
}

_DNS_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]*(\.[A-Za-z][A-Za-z0-9-]*)+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ConfigError(ValueError):
    """A setting has a value the service cannot run with."""


def load(overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Build the configuration: defaults, then ``KUTUBXONA_*`` variables, then ``overrides``."""
    environ = os.environ if environ is None else environ
    conf: dict[str, Any] = {}
    for name, setting in SETTINGS.items():
        raw = environ.get(f"KUTUBXONA_{name}")
        if raw is None:
            conf[name] = setting.default
        elif isinstance(setting.default, int):
            try:
                conf[name] = int(raw)
            except ValueError as exc:
                raise ConfigError(f"KUTUBXONA_{name} must be a whole number, not {raw!r}") from exc
        else:
            conf[name] = raw
    conf.update(overrides or {})
    return _complete(conf)


def _complete(conf: dict[str, Any]) -> dict[str, Any]:
    var = Path(conf["VAR_DIR"]).resolve()
    conf["VAR_DIR"] = str(var)
    if not conf["DATABASE_URL"]:
        conf["DATABASE_URL"] = f"sqlite:///{var / 'kutubxona.sqlite3'}"
    if not conf["STORAGE_URL"]:
        conf["STORAGE_URL"] = (var / "objects").as_uri()
    conf["BASE_URL"] = str(conf["BASE_URL"]).rstrip("/")
    if not _DNS_NAME.match(conf["REPOSITORY_ID"]):
        raise ConfigError(f"KUTUBXONA_REPOSITORY_ID must be a DNS-style name with a dot, not {conf['REPOSITORY_ID']!r}")
    email = conf["ADMIN_EMAIL"]
    if not _EMAIL.match(email) or email.lower().endswith("@localhost"):
        raise ConfigError(f"KUTUBXONA_ADMIN_EMAIL must be a valid address (not @localhost), not {email!r}")
    if not conf["SECRET_KEY"]:
        conf["SECRET_KEY"] = _stored_secret(var)
    for name in ("OAI_PAGE_SIZE", "OAI_TOKEN_TTL_HOURS", "OAI_MAX_CONCURRENT", "IMPORT_CHUNK"):
        if int(conf[name]) < 1:
            raise ConfigError(f"KUTUBXONA_{name} must be at least 1")
    if int(conf["IMPORT_WORKERS"]) < 0:
        raise ConfigError("KUTUBXONA_IMPORT_WORKERS must be 0 or more")
    return conf


def _stored_secret(var: Path) -> str:
    """Generate the secret key once into ``var/secret_key`` so restarts keep signed values valid."""
    path = var / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(key)
    os.chmod(tmp, 0o600)
    try:
        os.link(tmp, path)  # atomic: two workers starting at once agree on one key
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text().strip()


def is_embedded_sqlite(conf: Mapping[str, Any]) -> bool:
    """True when the database is the embedded SQLite file."""
    return str(conf["DATABASE_URL"]).startswith("sqlite")
