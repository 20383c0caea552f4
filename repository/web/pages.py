"""The researcher's pages: home, search results with facets, and one page per record.

Every word a reader sees goes through the message catalogues (``web/i18n.py``); codes stored in
the catalogue are named by ``web/labels.py``.  Pages read through the actions (``searching``,
``records``), the same ones the JSON API and the command line use, so all three agree.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from repository import catalogue
from repository.actions import records, searching
from repository.catalogue import queries
from repository.metadata.citations import Citation
from repository.metadata.identifiers import oai_identifier, record_path
from repository.metadata.marc import to_text
from repository.search import Filters, QueryError
from repository.search.query import FACETS, SORTS
from repository.web import error_answer, labels, numbers, services
from repository.web.links import site_path, this_path
from repository.web.qrcodes import qr_svg

bp = Blueprint("pages", __name__, template_folder="templates")
PAGE_SIZE = 20
ALBUM_SIZE = 60  # cards on one album page: ten printed sheets of six
# on the pages ?lang= chooses the interface language, so the language facet is ?language=
PARAMS = {name: "language" if name == "lang" else name for name in FACETS}


def chosen_facets() -> dict[str, list[str]]:
    """The facet values this page's address chooses, by facet."""
    return {name: request.args.getlist(param) for name, param in PARAMS.items() if request.args.getlist(param)}


def page_number() -> int:
    """The page this address asks for (``?page=``): 1 when it is missing, a 400 when it is no page number."""
    return numbers.page_argument()


def chosen_sort() -> str:
    """The order asked for with ``?sort=``; an unknown one falls back to relevance, as a link may be old."""
    sort = request.args.get("sort", "relevance")
    return sort if sort in SORTS else "relevance"


def page_filters(chosen: dict[str, list[str]]) -> Filters:
    """The search filters of chosen facet values (an unknown facet value simply matches nothing)."""
    filters = Filters()
    for name, values in chosen.items():
        for value in values:
            filters.add(name, value)
    return filters


@bp.app_template_filter("record_url")
def record_url(local_id: str) -> str:
    """The path of a record's page."""
    return record_path(local_id)


@bp.app_template_filter("moment")
def moment(stamp: str) -> Markup:
    """An ISO 8601 UTC time (a datestamp) as a ``<time>`` element, written the way the interface language writes it."""
    when = datetime.fromisoformat(stamp.removesuffix("Z"))
    return Markup('<time datetime="{}">{}</time>').format(stamp, format_datetime(when, "medium"))


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {"labels": labels, "facet_value": labels.facet_value, "with_args": with_args,
            "without_filters": without_filters}  # fmt: skip


def with_args(endpoint: str | None = None, drop: tuple[str, ...] = (), **changes: Any) -> str:
    """This page's address (or ``endpoint``'s) with its query changed: ``None`` removes an argument.

    ``drop`` removes arguments too (the page number, when a facet or the sort changes).  The address is
    always a path on this site (``links.site_path``), whatever the request's path holds.
    """
    args = MultiDict(request.args)
    args.pop("lang", None)  # the language is remembered in a cookie; links need not carry it
    for name in drop:
        args.pop(name, None)
    for name, value in changes.items():
        args.pop(name, None)
        if isinstance(value, list | tuple):
            for v in value:
                args.add(name, v)
        elif value is not None:
            args[name] = value
    values = {k: v[0] if len(v) == 1 else v for k, v in args.to_dict(flat=False).items()}
    if endpoint is None:  # this page, a 404 page too (an address no route matched)
        return site_path(this_path(), values)
    rule = next(current_app.url_map.iter_rules(endpoint))
    route = {name: values.pop(name) for name in rule.arguments if name in values}
    return site_path(unquote(urlsplit(url_for(endpoint, **route)).path), values)


def without_filters() -> str:
    """This search without its facets (and from its first page): the words and the order stay."""
    return with_args(drop=(*PARAMS.values(), "page"))


@bp.app_template_global()
def facet_link(name: str, value: str) -> str:
    """The results with this facet value added, or taken away when it is already chosen."""
    chosen = request.args.getlist(PARAMS[name])
    values = [v for v in chosen if v != value] if value in chosen else [*chosen, value]
    return with_args(drop=("page",), **{PARAMS[name]: values})


@bp.get("/")
def home() -> str:
    """The collection: a search box, its collections with their sizes and the newest records."""
    svc = services()
    with svc.db.reading() as session:
        sets = queries.all_sets(session)
        counts = catalogue.set_counts(session)
        total = queries.live_count(session)
        recent = queries.recent(session, 12)
        shows = queries.exhibitions(session)
    return render_template("home.html", sets=sets, counts=counts, total=total, recent=recent, exhibitions=shows)


@bp.get("/records/<path:local_id>/files/<name>/read")
def reader(local_id: str, name: str) -> tuple[str, int] | str:
    """An open file page by page: the PDF or the scan beside the text recognised on that page."""
    with services().db.reading() as session:
        rec = queries.record(session, local_id)
        row = queries.file_of(session, local_id, name) if rec is not None and not rec.deleted else None
        if row is None:
            abort(404)
        if not queries.is_public(row):
            return error_answer(403, _("This file is not open to the public"))
        pages = queries.pages_of(session, row.id)
    number = page_number()
    if number > max(1, len(pages)):
        abort(404)
    shown = next((p for p in pages if p.page == number), None)
    return render_template("reader.html", rec=rec, file=row, pages=len(pages), page=number, page_text=shown)


@bp.get("/collections/<path:spec>/album")
def album(spec: str) -> str:
    """A printable QR album of a collection: one card per item (title, author, year, QR code)."""
    collection, total, items, page, pages = collection_page(spec, ALBUM_SIZE)
    svc = services()
    cards = [(r, Markup(qr_svg(svc.base_url + record_path(r.local_id), scale=3).decode())) for r, _ in items]
    return render_template("album.html", collection=collection, total=total, cards=cards, page=page, pages=pages)


@bp.get("/collections/<path:spec>")
def collection(spec: str) -> str:
    """A collection as an exhibition: cover, introduction, curated items with captions, then the rest."""
    collection, total, items, page, pages = collection_page(spec, PAGE_SIZE)
    intro = [p.strip() for p in re.split(r"\n\s*\n", collection.introduction or "") if p.strip()]
    return render_template("collection.html", collection=collection, introduction=intro, total=total,
                           items=items, page=page, size=PAGE_SIZE, pages=pages)  # fmt: skip


def collection_page(spec: str, size: int) -> tuple[Any, int, list, int, int]:
    """The set ``spec`` (404 when there is none), how many items it has, this page of (record, caption),
    its number and how many pages there are (at least one)."""
    page = page_number()
    with services().db.reading() as session:
        found = queries.set_by_spec(session, spec)
        if found is None:
            abort(404)
        total, items = queries.set_members(session, found, (page - 1) * size, size)
    pages = max(1, -(-total // size))
    if page > pages:
        abort(404)
    return found, total, items, page, pages


@bp.get("/search")
def search() -> tuple[str, int] | str:
    """Results of a query, with facets that combine, sorting, pages and a suggestion."""
    text = request.args.get("q", "").strip()
    page = page_number()
    chosen = chosen_facets()
    try:
        result = searching.search(services(), text, page=page, size=PAGE_SIZE, filters=page_filters(chosen),
                                  sort=chosen_sort())  # fmt: skip
    except QueryError as exc:
        return render_template("search.html", text=text, error=labels.query_error(exc), result=None,
                               chosen=chosen), 400  # fmt: skip
    with services().db.reading() as session:
        set_names = {s.spec: s.name for s in queries.all_sets(session)}
    return render_template("search.html", text=text, error=None, result=result, chosen=chosen, set_names=set_names)


@bp.get("/records/<path:local_id>")
def record(local_id: str) -> tuple[str, int] | str | Response:
    """One record: its description with human labels, files, host and parts, citations and a QR code."""
    svc = services()
    try:
        view, prepared = records.public_record(svc, local_id)
    except records.Gone as gone:
        if gone.local_id != local_id:
            return _to_page_of(gone.local_id)
        with svc.db.reading() as session:
            rec = queries.record(session, local_id)
        return render_template("deleted.html", rec=rec, oai_id=oai_identifier(svc.repository_id, local_id)), 410
    if view["id"] != local_id:
        return _to_page_of(view["id"])
    cited = records.cite(prepared, view["id"], view["type"], view["url"], view["hosts"])
    pdf = next((f["url"] for f in view["files"] if f["mime"] == "application/pdf"), None)
    marc_text = to_text(prepared.marc) if prepared.marc is not None else None
    return render_template("record.html", view=view, cited=cited, pdf=pdf, marc_text=marc_text,
                           jsonld=_jsonld(view, cited))  # fmt: skip


def _to_page_of(local_id: str) -> Response:
    """A record named by its OAI identifier: its page is at its local identifier, for good (301)."""
    return redirect(site_path(unquote(record_path(local_id)), request.args.to_dict(flat=False)), 301)


def _jsonld(view: dict, cited: Citation) -> dict:
    """schema.org description of a record, for search engines."""
    kind = {"book": "Book", "article": "ScholarlyArticle", "serial": "Periodical", "thesis": "Thesis",
            "map": "Map", "music": "MusicComposition", "image": "VisualArtwork", "dataset": "Dataset",
            "manuscript": "Manuscript"}.get(view["type"], "CreativeWork")  # fmt: skip
    data: dict[str, Any] = {"@context": "https://schema.org", "@type": kind, "@id": view["url"], "url": view["url"],
                            "name": view["title"], "identifier": view["oai_identifier"]}  # fmt: skip
    if cited.authors:
        data["author"] = [{"@type": "Person", "name": a} for a in cited.authors]
    for key, value in (("datePublished", str(cited.year or "")), ("publisher", cited.publisher),
                       ("isbn", cited.isbn), ("issn", cited.issn), ("inLanguage", cited.language),
                       ("abstract", cited.abstract), ("keywords", ", ".join(cited.keywords))):  # fmt: skip
        if value:
            data[key] = value
    if cited.journal:
        data["isPartOf"] = {"@type": "Periodical", "name": cited.journal}
    if cited.doi:
        data["sameAs"] = "https://doi.org/" + cited.doi
    return data


@bp.app_errorhandler(404)
def not_found(_error: Exception) -> tuple[Any, int]:
    """A plain page for an unknown address."""
    return error_answer(404, _("Not found"))


@bp.app_errorhandler(500)
def server_error(_error: Exception) -> tuple[Any, int]:
    """A plain page, never a traceback."""
    return error_answer(500, _("Internal error"))
