"""Is this node fit to serve?  Checks of the database, object store, search index and tools.

``readiness`` asks only what a request needs (database, store, search), each with a short time
limit, for ``/readyz`` and a load balancer; ``check`` adds the schema version and the tools and
files that some work needs (OCR languages, pdftotext, the PDF font), for ``kutubxona check``.
A check that cannot answer in time has failed: a dead database can hang a connection for minutes.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as Late
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from sqlalchemy import text

from repository.fulltext import ocr

if TYPE_CHECKING:
    from repository.services import Services

OK, WARNING, FAILED = "ok", "warning", "failed"
PROBE_KEY = "0" * 64  # a well-formed key no object has: asking for it is one round trip to the store
READY_SECONDS = 2.0
CHECK_SECONDS = 10.0


@dataclass(frozen=True)
class Check:
    """The outcome of one check: ok, warning (some work will fail) or failed (the node cannot serve)."""

    name: str
    status: str
    detail: str
    seconds: float

    def as_dict(self) -> dict[str, object]:
        """The check as JSON sees it."""
        return {**asdict(self), "seconds": round(self.seconds, 3)}


class Problem(Exception):
    """What a check found wrong; ``status`` says how bad."""

    def __init__(self, detail: str, status: str = FAILED) -> None:
        super().__init__(detail)
        self.status = status


def readiness(services: Services) -> list[Check]:
    """Database, object store and search index, each within ``READY_SECONDS``."""
    return _run(services, _READY, READY_SECONDS)


def check(services: Services) -> list[Check]:
    """Every check: configuration, database and schema, store, search, OCR, PDF tools and font."""
    return _run(services, {"configuration": _configuration, **_READY, **_TOOLS}, CHECK_SECONDS)


def exit_code(checks: list[Check]) -> int:
    """0 when all is well, 1 with warnings only, 2 when any check failed."""
    statuses = {c.status for c in checks}
    return 2 if FAILED in statuses else 1 if WARNING in statuses else 0


def _run(services: Services, checks: dict[str, Callable[[Services], str]], seconds: float) -> list[Check]:
    """Run ``checks`` at once, each within ``seconds``; a late one is failed and left to finish alone."""
    pool = ThreadPoolExecutor(max_workers=len(checks), thread_name_prefix="check")
    started = time.monotonic()
    futures = {name: pool.submit(_timed, fn, services) for name, fn in checks.items()}
    results = []
    for name, future in futures.items():
        try:
            status, detail, took = future.result(timeout=max(0.0, started + seconds - time.monotonic()))
        except Late:
            status, detail, took = FAILED, f"no answer within {seconds:g} s", seconds
        results.append(Check(name, status, detail, took))
    pool.shutdown(wait=False, cancel_futures=True)
    return results


def _timed(fn: Callable[[Services], str], services: Services) -> tuple[str, str, float]:
    started = time.monotonic()
    try:
        status, detail = OK, fn(services)
    except Problem as exc:
        status, detail = exc.status, str(exc)
    except Exception as exc:  # noqa: BLE001 - any failure of a service is this check's answer
        status, detail = FAILED, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")
    return status, detail, time.monotonic() - started


def _configuration(services: Services) -> str:
    s = services.settings
    search = s.search_url or "embedded"
    return f"base URL {s.base_url}, repository {s.repository_id}, search {search}"


def _database(services: Services) -> str:
    with services.db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    if services.db.pending_migrations():
        raise Problem("the schema is behind this version: run `kutubxona db upgrade`")
    return f"{services.db.engine.dialect.name}, schema up to date"


def _store(services: Services) -> str:
    services.store.exists(PROBE_KEY)  # raises when the store cannot be reached
    return services.store.url


def _search(services: Services) -> str:
    backend = services.search.backend
    count = backend.count()
    if backend.outdated:
        raise Problem("the index was made by another version: run `kutubxona reindex`", WARNING)
    return f"{backend.name}, {count:,} records"


def _ocr(services: Services) -> str:
    found = ocr.installed_languages()
    if found is None:
        raise Problem("tesseract is not installed: scans will not be recognised", WARNING)
    missing = [lang for lang in ocr.LANGUAGES if lang not in found]
    if missing:
        raise Problem(f"tesseract lacks {', '.join(missing)}: install tesseract-ocr-{missing[0].replace('_', '-')}",
                      WARNING)  # fmt: skip
    return "tesseract with " + ", ".join(ocr.LANGUAGES)


def _pdf_tools(services: Services) -> str:
    if shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None:
        raise Problem("poppler-utils is missing: PDF text is read more slowly and scanned PDFs are not OCRed",
                      WARNING)  # fmt: skip
    return "pdftotext and pdftoppm"


def _pdf_font(services: Services) -> str:
    font = services.settings.pdf_font
    if not font.is_file():
        raise Problem(f"{font} is missing: the PDF QR albums answer 503 (KUTUBXONA_PDF_FONT)", WARNING)
    return str(font)


_READY: dict[str, Callable[[Services], str]] = {"database": _database, "store": _store, "search": _search}
_TOOLS: dict[str, Callable[[Services], str]] = {"ocr": _ocr, "pdf tools": _pdf_tools, "pdf font": _pdf_font}
