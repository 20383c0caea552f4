"""Every setting of Kutubxona, its default and one line of doc; read from ``KUTUBXONA_*`` variables.

The defaults run the embedded mode: SQLite and objects under ``./var``, embedded search.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from repository.errors import KutubxonaError


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
    "SEARCH_URL": Setting("", "Elasticsearch or OpenSearch URL (http://host:9200); empty = the embedded search"),
    "SEARCH_INDEX": Setting("kutubxona", "name of the search alias on Elasticsearch; its indices are NAME-<time>"),
    "BASE_URL": Setting("http://127.0.0.1:5000", "public root of the site; the OAI base URL is {BASE_URL}/oai"),
    "REPOSITORY_ID": Setting("demo.kutubxona.uz", "DNS-style name in oai:{REPOSITORY_ID}:{local id}"),
    "REPOSITORY_NAME": Setting("Kutubxona demo repository", "human-readable name shown by Identify"),
    "ADMIN_EMAIL": Setting("admin@kutubxona.uz", "address of the repository's administrator"),
    "MARC_ORG_CODE": Setting(
        "", "the library's MARC organization code: 003, 040 and 884 of records exported from Dublin Core"
    ),
    "SECRET_KEY": Setting("", "signs resumption tokens and sessions; empty = generated once into VAR_DIR"),
    "AUTO_MIGRATE": Setting("auto", "apply pending migrations at start: auto (embedded SQLite only), yes, no"),
    "OAI_PAGE_SIZE": Setting(100, "records per OAI-PMH list page"),
    "OAI_TOKEN_TTL_HOURS": Setting(48, "lifetime of a resumption token chain, in hours"),
    "OAI_MAX_CONCURRENT": Setting(4, "list requests served at once per worker before answering 503"),
    "OAI_FRIENDS": Setting("", "space-separated base URLs announced in the friends description"),
    "HARVEST_ALLOW_PRIVATE": Setting(
        "no",
        "harvest sources on non-public addresses: no (public only), yes (any), or networks (10.20.0.0/16 ...)",
    ),
    "ALBUM_MAX_CONCURRENT": Setting(2, "album PDFs made at once per worker (a kept one is no work) before a 503"),
    "BROKER_URL": Setting("", "amqp://... or redis://...: background jobs also go to Celery workers; empty = none"),
    "JOB_LEASE_SECONDS": Setting(
        60, "how long a worker holds a job without renewing; a dead worker's job is retaken after"
    ),
    "JOB_STEP_SECONDS": Setting(
        10, "with a broker, a job hands itself back at its next step after this long (small tasks); 0 = each step"
    ),
    "LOG_FORMAT": Setting("text", "text (lines for a person) or json (one object per line for a log collector)"),
    "SHED_AFTER_MS": Setting(500, "a request that waited longer for a worker thread is answered 503; 0 = never"),
    "REQUEST_READ_SECONDS": Setting(
        10, "a request (head and body) must arrive within this long, or the server closes the connection (408)"
    ),
    "RESPONSE_SEND_SECONDS": Setting(
        60, "an answer the client takes none of for this long is abandoned and its connection closed"
    ),
    "REQUEST_LINE_BYTES": Setting(32768, "longest request line (method, URL, version) served; past it 414"),
    "IMPORT_CHUNK": Setting(1000, "records per transaction during an import"),
    "IMPORT_WORKERS": Setting(2, "processes preparing records for a large import or reindex while it writes; 0 = none"),
    "IMPORT_MAX_FIELD": Setting(100_000, "bytes one field of an XML record may hold; past it the record is rejected"),
    "IMPORT_MAX_RECORD": Setting(1_000_000, "bytes of XML one record may take; past it the record is rejected"),
    "IMPORT_MAX_UNPACKED": Setting(
        10_000_000_000, "bytes a compressed file (gzip, bzip2, xz, zip) may unpack to before it is refused"
    ),
    "IMPORT_MAX_RATIO": Setting(100, "times its own size a compressed file may unpack to before it is refused"),
    "OCR_PAGE_SECONDS": Setting(300, "longest tesseract may take on one page before the file's OCR fails"),
    "PDF_FONT": Setting(
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "TrueType font of the PDF QR albums; it must hold Latin and Cyrillic (Debian: fonts-dejavu-core)",
    ),  # fmt: skip
}

MIN_REQUEST_LINE, MAX_REQUEST_LINE = 1024, 1 << 20  # bytes; 1 KiB holds any page's URL, 1 MiB any sane one
_DNS_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]*(\.[A-Za-z][A-Za-z0-9-]*)+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ORG_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9:/-]{1,15}$")  # MARC Code List for Organizations: UzNL, Uz-TaNL


class ConfigError(KutubxonaError, ValueError):
    """A setting has a value the service cannot run with."""


@dataclass(frozen=True)
class Settings:
    """The settings of one app or command, typed and checked once, when they are loaded."""

    var_dir: Path
    database_url: str
    storage_url: str
    s3_endpoint: str
    search_url: str
    search_index: str
    base_url: str
    repository_id: str
    repository_name: str
    admin_email: str
    marc_org_code: str
    secret_key: str
    auto_migrate: str
    oai_page_size: int
    oai_token_ttl_hours: int
    oai_max_concurrent: int
    oai_friends: tuple[str, ...]
    album_max_concurrent: int
    shed_after_ms: int
    request_read_seconds: int
    response_send_seconds: int
    request_line_bytes: int
    log_format: str
    job_lease_seconds: int
    job_step_seconds: int
    broker_url: str
    harvest_allow_private: bool
    harvest_private_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    import_chunk: int
    import_workers: int
    import_max_field: int
    import_max_record: int
    import_max_unpacked: int
    import_max_ratio: int
    ocr_page_seconds: int
    pdf_font: Path

    @property
    def is_embedded_sqlite(self) -> bool:
        """True when the database is a SQLite file."""
        return self.database_url.startswith("sqlite")

    @property
    def migrate_at_start(self) -> bool:
        """Whether pending migrations are applied when the service opens its database."""
        auto = self.auto_migrate.lower()
        return auto in ("yes", "true", "1") or (auto == "auto" and self.is_embedded_sqlite)


def load(overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Build the settings: defaults, then ``KUTUBXONA_*`` variables, then ``overrides`` (same names)."""
    environ = os.environ if environ is None else environ
    raw: dict[str, Any] = {name: environ.get(f"KUTUBXONA_{name}", s.default) for name, s in SETTINGS.items()}
    unknown = set(overrides or {}) - set(SETTINGS)
    if unknown:
        raise ConfigError(f"unknown settings: {', '.join(sorted(unknown))}")
    raw.update(overrides or {})
    for name, setting in SETTINGS.items():
        if isinstance(setting.default, int):
            try:
                raw[name] = int(raw[name])
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"KUTUBXONA_{name} must be a whole number, not {raw[name]!r}") from exc
        else:
            raw[name] = str(raw[name])
    return _complete(raw)


def _complete(conf: dict[str, Any]) -> Settings:
    var = Path(conf["VAR_DIR"]).resolve()
    if not _DNS_NAME.match(conf["REPOSITORY_ID"]):
        raise ConfigError(f"KUTUBXONA_REPOSITORY_ID must be a DNS-style name with a dot, not {conf['REPOSITORY_ID']!r}")
    email = conf["ADMIN_EMAIL"]
    if not _EMAIL.match(email) or email.lower().endswith("@localhost"):
        raise ConfigError(f"KUTUBXONA_ADMIN_EMAIL must be a valid address (not @localhost), not {email!r}")
    if conf["MARC_ORG_CODE"] and not _ORG_CODE.match(conf["MARC_ORG_CODE"]):
        raise ConfigError(
            f"KUTUBXONA_MARC_ORG_CODE must be a MARC organization code (letters, digits, '-', ':', '/'), "
            f"not {conf['MARC_ORG_CODE']!r}"
        )
    for name in (
        "OAI_PAGE_SIZE",
        "OAI_TOKEN_TTL_HOURS",
        "OAI_MAX_CONCURRENT",
        "ALBUM_MAX_CONCURRENT",
        "IMPORT_CHUNK",
        "OCR_PAGE_SECONDS",
        "JOB_LEASE_SECONDS",
        "IMPORT_MAX_FIELD",
        "IMPORT_MAX_RECORD",
        "IMPORT_MAX_UNPACKED",
        "IMPORT_MAX_RATIO",
        "REQUEST_READ_SECONDS",
        "RESPONSE_SEND_SECONDS",
    ):
        if conf[name] < 1:
            raise ConfigError(f"KUTUBXONA_{name} must be at least 1")
    if conf["LOG_FORMAT"] not in ("text", "json"):
        raise ConfigError(f"KUTUBXONA_LOG_FORMAT must be text or json, not {conf['LOG_FORMAT']!r}")
    if not MIN_REQUEST_LINE <= conf["REQUEST_LINE_BYTES"] <= MAX_REQUEST_LINE:
        # a bound even when raised: the server holds a request's head in memory while it arrives
        raise ConfigError(f"KUTUBXONA_REQUEST_LINE_BYTES must be from {MIN_REQUEST_LINE} to {MAX_REQUEST_LINE}")
    for name in ("IMPORT_WORKERS", "SHED_AFTER_MS", "JOB_STEP_SECONDS"):
        if conf[name] < 0:
            raise ConfigError(f"KUTUBXONA_{name} must be 0 or more")
    allow_private, private_networks = _private_addresses(conf["HARVEST_ALLOW_PRIVATE"])
    return Settings(
        var_dir=var,
        database_url=conf["DATABASE_URL"] or f"sqlite:///{var / 'kutubxona.sqlite3'}",
        storage_url=conf["STORAGE_URL"] or (var / "objects").as_uri(),
        s3_endpoint=conf["S3_ENDPOINT"],
        search_url=conf["SEARCH_URL"].rstrip("/"),
        search_index=conf["SEARCH_INDEX"].lower(),
        base_url=conf["BASE_URL"].rstrip("/"),
        repository_id=conf["REPOSITORY_ID"],
        repository_name=conf["REPOSITORY_NAME"],
        admin_email=email,
        marc_org_code=conf["MARC_ORG_CODE"],
        secret_key=conf["SECRET_KEY"] or _stored_secret(var),
        auto_migrate=conf["AUTO_MIGRATE"],
        oai_page_size=conf["OAI_PAGE_SIZE"],
        oai_token_ttl_hours=conf["OAI_TOKEN_TTL_HOURS"],
        oai_max_concurrent=conf["OAI_MAX_CONCURRENT"],
        pdf_font=Path(conf["PDF_FONT"]),
        oai_friends=tuple(conf["OAI_FRIENDS"].split()),
        album_max_concurrent=conf["ALBUM_MAX_CONCURRENT"],
        shed_after_ms=conf["SHED_AFTER_MS"],
        request_read_seconds=conf["REQUEST_READ_SECONDS"],
        response_send_seconds=conf["RESPONSE_SEND_SECONDS"],
        request_line_bytes=conf["REQUEST_LINE_BYTES"],
        log_format=conf["LOG_FORMAT"],
        job_lease_seconds=conf["JOB_LEASE_SECONDS"],
        job_step_seconds=conf["JOB_STEP_SECONDS"],
        broker_url=conf["BROKER_URL"],
        harvest_allow_private=allow_private,
        harvest_private_networks=private_networks,
        import_chunk=conf["IMPORT_CHUNK"],
        import_workers=conf["IMPORT_WORKERS"],
        import_max_field=conf["IMPORT_MAX_FIELD"],
        import_max_record=conf["IMPORT_MAX_RECORD"],
        import_max_unpacked=conf["IMPORT_MAX_UNPACKED"],
        import_max_ratio=conf["IMPORT_MAX_RATIO"],
        ocr_page_seconds=conf["OCR_PAGE_SECONDS"],
    )


def _private_addresses(value: str) -> tuple[bool, tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]]:
    """KUTUBXONA_HARVEST_ALLOW_PRIVATE: (every non-public address allowed, the networks allowed)."""
    word = value.strip().lower()
    if word in ("yes", "true", "1", "on"):
        return True, ()
    if word in ("no", "false", "0", "off", ""):
        return False, ()
    try:
        return False, tuple(ipaddress.ip_network(part, strict=False) for part in word.replace(",", " ").split())
    except ValueError:
        raise ConfigError(
            f"KUTUBXONA_HARVEST_ALLOW_PRIVATE must be no, yes or networks such as 10.20.0.0/16, not {value!r}"
        ) from None


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
