"""Public HTML pages: the home page with the collection's sets, and one page per record."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template

from repository import catalogue
from repository.catalogue import queries
from repository.metadata import dc as dcmod
from repository.metadata.formats import FORMATS, prepare_source
from repository.metadata.identifiers import oai_identifier, record_path
from repository.metadata.marc import to_text
from repository.web import error_answer, services

bp = Blueprint("pages", __name__, template_folder="templates")


@bp.app_template_filter("record_url")
def record_url(local_id: str) -> str:
    """The path of a record's page."""
    return record_path(local_id)


@bp.get("/")
def home() -> str:
    """The collection: its sets with their sizes and the newest records."""
    svc = services()
    with svc.db.reading() as session:
        sets = queries.all_sets(session)
        counts = catalogue.set_counts(session)
        total = queries.live_count(session)
        recent = queries.recent(session, 25)
    return render_template("home.html", sets=sets, counts=counts, total=total, recent=recent)


@bp.get("/records/<path:local_id>")
def record(local_id: str) -> tuple[str, int] | str:
    """One record: its description, identifiers, sets and the MARC or Dublin Core behind it."""
    svc = services()
    with svc.db.reading() as session:
        rec = queries.record(session, local_id)
        if rec is None:
            abort(404)
        specs = catalogue.set_specs(session, rec.id)
        files = queries.files_of(session, rec.id)
    oai_id = oai_identifier(svc.repository_id, rec.local_id)
    if rec.deleted:
        return render_template("deleted.html", rec=rec, oai_id=oai_id), 410
    prepared = prepare_source(rec.flavour, rec.source)
    marc_text = to_text(prepared.marc) if prepared.marc is not None else None
    formats = [f for f in FORMATS.values() if rec.flavour in f.flavours]
    return render_template(
        "record.html",
        rec=rec,
        dc=prepared.dc,
        marc_text=marc_text,
        specs=specs,
        oai_id=oai_id,
        formats=formats,
        elements=dcmod.ELEMENTS,
        files=[f for f in files if queries.is_public(f)],
        closed_files=sum(1 for f in files if not queries.is_public(f)),
    )


@bp.app_errorhandler(404)
def not_found(_error: Exception) -> tuple[Any, int]:
    """A plain page for an unknown address."""
    return error_answer(404, "Topilmadi / Not found")


@bp.app_errorhandler(500)
def server_error(_error: Exception) -> tuple[Any, int]:
    """A plain page, never a traceback."""
    return error_answer(500, "Ichki xato / Internal error")
