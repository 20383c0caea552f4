"""Downloads: ``{BASE_URL}/records/<local id>/files/<file name>``, streamed, with Range support.

Restricted files, and embargoed ones before their date, answer 403; there is no listing, and the
file name is looked up in the database, never joined to a path.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from flask import Blueprint, Response, abort, request

from repository.catalogue import queries
from repository.storage import StorageError
from repository.web import services
from repository.web.numbers import whole

bp = Blueprint("files", __name__)
# what a browser may show in place: anything else (HTML, SVG, XML, unknown) is a download, so a
# file attached to a record can never run as a page of this site
_INLINE_TYPES = {"application/pdf", "text/plain", "image/png", "image/jpeg", "image/gif", "image/webp",
                 "image/tiff", "image/bmp"}  # fmt: skip


def disposition(kind: str, name: str) -> str:
    """A Content-Disposition of ``kind`` (inline, attachment) for ``name``, safe for any characters (RFC 6266 4.3)."""
    fallback = re.sub(r"[^A-Za-z0-9._-]", "_", name)  # for clients that do not read filename*
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def shown_inline(mime: str) -> bool:
    """True for the types a download may show in the browser: PDF, raster images, plain text, audio, video."""
    return mime in _INLINE_TYPES or mime.startswith(("audio/", "video/"))


_RANGE = re.compile(r"^bytes=([0-9]*)-([0-9]*)$")


@bp.get("/records/<path:local_id>/files/<name>")
def download(local_id: str, name: str) -> Response:
    """Stream one file (RFC 9110 14: a single byte range answers 206)."""
    svc = services()
    with svc.db.reading() as session:
        row = queries.file_of(session, local_id, name)
    if row is None:
        abort(404)
    if not queries.is_public(row):
        return Response("403 Forbidden: this file is not open to the public\n", 403, mimetype="text/plain",
                        headers={"Cache-Control": "private, no-store"})  # fmt: skip
    size = row.size
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Disposition": disposition("inline" if shown_inline(row.mime) else "attachment", name),
        "ETag": f'"{row.sha256}"',
        # a file that is not open to all (an embargo just over) stays out of shared caches
        "Cache-Control": "public, max-age=86400" if row.access == "open" else "private, no-store",
        "X-Content-Type-Options": "nosniff",
    }
    start, end, status = 0, size - 1, 200
    wanted = request.headers.get("Range")
    if wanted and request.headers.get("If-Range", f'"{row.sha256}"') == f'"{row.sha256}"':
        match = _RANGE.match(wanted.strip())
        if match is None or match.groups() == ("", ""):
            return Response(status=416, headers={"Content-Range": f"bytes */{size}"})
        first, last = (whole(n) for n in match.groups())  # a number past any file's size reads as LIMIT
        if first is None:
            start = max(size - last, 0)  # the last N bytes
        else:
            start = first
            end = min(last, size - 1) if last is not None else size - 1
        if start >= size or start > end:
            return Response(status=416, headers={"Content-Range": f"bytes */{size}"})
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    headers["Content-Length"] = str(end - start + 1 if size else 0)
    try:
        chunks = svc.store.read_range(row.object_key, start, end) if size else iter(())
        first_chunk = next(chunks, b"")  # fail here, with a clean answer, if the object is gone
    except StorageError:
        abort(503)

    def body():  # noqa: ANN202
        yield first_chunk
        yield from chunks

    return Response(body(), status=status, headers=headers, mimetype=row.mime, direct_passthrough=True)


@bp.get("/collections/<path:spec>/cover")
def cover(spec: str) -> Response:
    """An exhibition's cover image (a web image type, checked when it was stored)."""
    svc = services()
    with svc.db.reading() as session:
        found = queries.set_by_spec(session, spec)
    if found is None or found.cover_key is None:
        abort(404)
    headers = {
        "ETag": f'"{found.cover_key}"',
        "Cache-Control": "public, max-age=3600",
        "X-Content-Type-Options": "nosniff",
    }
    if request.if_none_match.contains(found.cover_key):  # the key is the image's hash: unchanged, not read
        return Response(status=304, headers=headers)
    try:
        with svc.store.open(found.cover_key) as fh:
            data = fh.read()
    except StorageError:
        abort(503)
    return Response(data, mimetype=found.cover_type, headers=headers)
