"""Is this node fit to serve?  Checks of the database, object store, search index and tools.

``Readiness`` asks only what a request needs (database, store, search), each with a short time
limit, for ``/readyz`` and a load balancer; ``check`` adds the schema version and the tools and
files that some work needs (OCR languages, pdftotext, the PDF font), for ``kutubxona check``.
A check that cannot answer in time has failed: a dead database can hang a connection for minutes.
Such a check is left to finish alone, and while it hangs ``Readiness`` starts no other of its kind:
a probe asked every few seconds would otherwise leave a blocked thread behind each time.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
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


class Readiness:
    """The probes of database, object store and search index, for a process that is asked again and again.

    One pool of a thread per component, and at most one probe of each component in flight: a call
    while a component's probe is still pending (a database that hangs) waits for that same probe,
    within its own time limit, instead of starting another; so however often it is asked, no more
    than three threads ever run or hang here.
    """

    def __init__(self, checks: dict[str, Callable[[Services], str]] | None = None) -> None:
        self._checks = _READY if checks is None else checks
        self._pool = ThreadPoolExecutor(max_workers=len(self._checks), thread_name_prefix="ready")
        self._lock = threading.Lock()
        self._pending: dict[str, Future] = {}

    def __call__(self, services: Services, seconds: float = READY_SECONDS) -> list[Check]:
        """Each component's answer within ``seconds``: a fresh probe, or the one still pending from an earlier call."""
        with self._lock:
            for name, fn in self._checks.items():
                pending = self._pending.get(name)
                if pending is None or pending.done():
                    self._pending[name] = self._pool.submit(_timed, fn, services)
            futures = dict(self._pending)
        return _collect(futures, seconds)

    def close(self) -> None:
        """Let the pool's threads end once their probes have (a hung one when its connection gives up)."""
        self._pool.shutdown(wait=False, cancel_futures=True)


def check(services: Services) -> list[Check]:
    """Every check: configuration, database and schema, store, search, OCR, PDF tools and font."""
    probes = Readiness({"configuration": _configuration, **_READY, **_TOOLS})
    try:
        return probes(services, CHECK_SECONDS)
    finally:
        probes.close()


def exit_code(checks: list[Check]) -> int:
    """0 when all is well, 1 with warnings only, 2 when any check failed."""
    statuses = {c.status for c in checks}
    return 2 if FAILED in statuses else 1 if WARNING in statuses else 0


def _collect(futures: dict[str, Future], seconds: float) -> list[Check]:
    """The answers of ``futures``, all within ``seconds`` from now; a late one has failed (and goes on alone)."""
    started = time.monotonic()
    results = []
    for name, future in futures.items():
        try:
            status, detail, took = future.result(timeout=max(0.0, started + seconds - time.monotonic()))
        except Late:
            status, detail, took = FAILED, f"no answer within {seconds:g} s", seconds
        results.append(Check(name, status, detail, took))
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
