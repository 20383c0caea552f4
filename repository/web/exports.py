"""What leaves the site for other programs: citations (RIS, BibTeX, CSL-JSON) of a record or of a
result page, a record's MARCXML and ISO 2709, its QR code, and what crawlers read (sitemaps,
robots.txt, the OpenSearch description)."""

from __future__ import annotations

import threading

from flask import Blueprint, Response, request
from flask_babel import gettext as _
from lxml import etree

from repository.actions import exporting, records, searching
from repository.catalogue import queries
from repository.metadata.citations import to_bibtex, to_csl, to_ris
from repository.metadata.identifiers import record_path
from repository.web import albums, i18n, metrics, services, worker_gate
from repository.web.albums import Card
from repository.web.files import disposition
from repository.web.pages import (
    ALBUM_SIZE,
    PAGE_SIZE,
    chosen_facets,
    chosen_sort,
    collection_page,
    page_filters,
    page_number,
)
from repository.web.qrcodes import qr_modules, qr_svg

bp = Blueprint("exports", __name__)

CITATIONS = {  # suffix: (writer, media type)
    "ris": (to_ris, "application/x-research-info-systems"),
    "bib": (to_bibtex, "application/x-bibtex; charset=utf-8"),
    "json": (to_csl, "application/vnd.citationstyles.csl+json"),
}
MARC = {"marcxml": ("xml", "application/marcxml+xml"), "iso2709": ("mrc", "application/marc")}
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
# the sitemaps.org protocol allows 50,000 addresses in a file; 10,000 keep each answer short
SITEMAP_SIZE = 10_000
OPENSEARCH_NS = "http://a9.com/-/spec/opensearch/1.1/"
RETRY_AFTER = "5"  # seconds: about five albums' making


def _download(body: bytes | str, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = disposition("attachment", filename)
    return response


@bp.get("/records/<path:local_id>/cite.<any(ris, bib, json):fmt>")
def cite(local_id: str, fmt: str) -> Response:
    """The citation of one record."""
    local = records.live_id(services(), local_id)  # 404 or 410; an OAI identifier names it too
    write, mimetype = CITATIONS[fmt]
    return _download(write(records.citations(services(), [local])), mimetype, f"{local}.{fmt}")


@bp.get("/search/cite.<any(ris, bib, json):fmt>")
def cite_results(fmt: str) -> Response:
    """The citations of the page of results the search page shows (the same arguments)."""
    result = searching.search(services(), request.args.get("q", ""), page=page_number(),
                              size=PAGE_SIZE, sort=chosen_sort(),
                              filters=page_filters(chosen_facets()), facets=False)  # fmt: skip
    write, mimetype = CITATIONS[fmt]
    return _download(write(records.citations(services(), [h["id"] for h in result["hits"]])), mimetype,
                     f"kutubxona-search.{fmt}")  # fmt: skip


@bp.get("/records/<path:local_id>/record.<any(marcxml, iso2709):fmt>")
def marc(local_id: str, fmt: str) -> Response:
    """The record as MARCXML or ISO 2709, as the export writes it."""
    suffix, mimetype = MARC[fmt]
    return _download(exporting.export_record(services(), local_id, fmt), mimetype, f"{local_id}.{suffix}")


@bp.get("/records/<path:local_id>/qr.svg")
def qr(local_id: str) -> Response:
    """A QR code of the record's permanent address."""
    response = Response(qr_svg(records.permanent_url(services(), local_id)), mimetype="image/svg+xml")
    response.cache_control.max_age = 86400
    return response


@bp.get("/collections/<path:spec>/album.pdf")
def album_pdf(spec: str) -> Response:
    """The QR album of a collection as a PDF to print: the same cards as the album page, six to a sheet.

    Made once for what it shows and kept (``albums.AlbumCache``); making one is most of a second of CPU, so at
    most ``KUTUBXONA_ALBUM_MAX_CONCURRENT`` are made at once in a worker, and past that the answer is 503.
    """
    collection, _total, items, page, pages = collection_page(spec, ALBUM_SIZE)
    svc = services()
    faces = [(rec.title or rec.local_id, rec.author or "", rec.year or "", svc.base_url + record_path(rec.local_id))
             for rec, _caption in items]  # fmt: skip
    heading = f"{collection.name} · {_('QR album')}" + (f" · {page}/{pages}" if pages > 1 else "")
    font, language = svc.settings.pdf_font, i18n.current().tag
    key = albums.album_key(heading, faces, font, language)
    kept = albums.AlbumCache(svc.settings.var_dir / "albums")
    body = kept.get(key)
    if body is None:
        gate = _album_gate()
        if not gate.acquire(blocking=False):
            metrics.count_shed()
            return Response("503 Service Unavailable: too many albums are being made at once; retry later\n", 503,
                            mimetype="text/plain", headers={"Retry-After": RETRY_AFTER})  # fmt: skip
        try:
            cards = [Card(*face, qr_modules(face[3])) for face in faces]
            body = albums.album_pdf(heading, cards, font, language)
        except albums.FontMissing as exc:
            return Response(f"503 Service Unavailable: {exc}\n", 503, mimetype="text/plain")
        finally:
            gate.release()
        kept.put(key, body)
    suffix = f"-{page}" if pages > 1 else ""
    return _download(body, "application/pdf", f"album-{collection.spec}{suffix}.pdf")


def _album_gate() -> threading.BoundedSemaphore:
    """This worker's limit of albums made at once (as OAI-PMH's of lists served at once)."""
    return worker_gate("album", services().settings.album_max_concurrent)


@bp.get("/robots.txt")
def robots() -> Response:
    """Crawlers may read everything but the protocol endpoints and the downloads; the sitemap says where."""
    base = services().base_url
    lines = ["User-agent: *", "Disallow: /oai", "Disallow: /api/", "Disallow: /search/cite.", "",
             f"Sitemap: {base}/sitemap.xml", ""]  # fmt: skip
    return Response("\n".join(lines), mimetype="text/plain")


@bp.get("/sitemap.xml")
def sitemap_index() -> Response:
    """A sitemap index: sitemap N holds the records numbered from (N-1)·SIZE+1 to N·SIZE.

    Ranges of record numbers rather than offsets: a sitemap's addresses stay where they are when
    records elsewhere are deleted, and each is read through the primary key at any catalogue size.
    """
    svc = services()
    with svc.db.reading() as session:
        last = queries.last_record_id(session)
    root = etree.Element(f"{{{SITEMAP_NS}}}sitemapindex", nsmap={None: SITEMAP_NS})
    for number in range(1, max(1, -(-last // SITEMAP_SIZE)) + 1):
        etree.SubElement(
            etree.SubElement(root, f"{{{SITEMAP_NS}}}sitemap"), f"{{{SITEMAP_NS}}}loc"
        ).text = f"{svc.base_url}/sitemap-{number}.xml"
    return _xml(root, "application/xml")


@bp.get("/sitemap-<int:number>.xml")
def sitemap(number: int) -> Response:
    """The live records of one range of numbers, with the time each last changed."""
    svc = services()
    with svc.db.reading() as session:
        if number < 1 or (number - 1) * SITEMAP_SIZE >= max(1, queries.last_record_id(session)):
            return Response(_("Not found"), status=404, mimetype="text/plain")
        rows = queries.live_in_range(session, (number - 1) * SITEMAP_SIZE + 1, number * SITEMAP_SIZE)
    root = etree.Element(f"{{{SITEMAP_NS}}}urlset", nsmap={None: SITEMAP_NS})
    for local_id, stamp in rows:
        url = etree.SubElement(root, f"{{{SITEMAP_NS}}}url")
        etree.SubElement(url, f"{{{SITEMAP_NS}}}loc").text = svc.base_url + record_path(local_id)
        etree.SubElement(url, f"{{{SITEMAP_NS}}}lastmod").text = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    return _xml(root, "application/xml")


@bp.get("/opensearch.xml")
def opensearch() -> Response:
    """The OpenSearch 1.1 description: browsers offer the catalogue as a search engine."""
    svc = services()
    root = etree.Element(f"{{{OPENSEARCH_NS}}}OpenSearchDescription", nsmap={None: OPENSEARCH_NS})
    described = (("ShortName", svc.settings.repository_name[:16] or "Kutubxona"),  # the spec's limit: 16
                 ("Description", _("Search the catalogue and the full text")), ("InputEncoding", "UTF-8"))  # fmt: skip
    for name, text in described:
        etree.SubElement(root, f"{{{OPENSEARCH_NS}}}{name}").text = text
    for mimetype, path in (("text/html", "/search"), ("application/json", "/api/search")):
        etree.SubElement(root, f"{{{OPENSEARCH_NS}}}Url", type=mimetype,
                         template=f"{svc.base_url}{path}?q={{searchTerms}}&page={{startPage?}}")  # fmt: skip
    return _xml(root, "application/opensearchdescription+xml")


def _xml(root: etree._Element, mimetype: str) -> Response:
    return Response(etree.tostring(root, xml_declaration=True, encoding="UTF-8"), mimetype=mimetype)
