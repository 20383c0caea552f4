"""The read-only JSON API: search, one record, and the OpenAPI 3 document that describes both.

Every answer is JSON, errors too (``{"error": "..."}`` with the status), and any origin may read
it (CORS): it serves only what the public pages show.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from repository.actions import records, searching
from repository.search import Filters
from repository.search.query import FACETS, MAX_LENGTH, MAX_WORDS, SORTS
from repository.web import numbers, services

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/search")
def search() -> Response:
    """``?q=&page=&size=&sort=`` and facet filters (type, lang, decade, subject, set, fulltext), as JSON."""
    filters = Filters()
    for name in FACETS:
        for value in request.args.getlist(name):
            filters.add(name, value)
    result = searching.search(
        services(),
        request.args.get("q", ""),
        page=numbers.page_argument(),
        size=numbers.argument("size", 20, 1, searching.MAX_SIZE),
        sort=request.args.get("sort", "relevance"),
        filters=filters,
    )
    return jsonify(result)


@bp.get("/records/<path:local_id>")
def record(local_id: str) -> Response:
    """One record as the public may read it."""
    return jsonify(records.public_view(services(), local_id))


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3 description of this API."""
    return jsonify(document(services().base_url))


# ------------------------------------------------------------------------------- OpenAPI 3

_ERROR = {"description": "why", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def document(base_url: str) -> dict:
    """The OpenAPI 3.0 document (checked against the live API by the tests with schemathesis)."""
    facet_params = [
        {"name": name, "in": "query", "required": False, "description": f"only records whose {name} is one of these",
         "schema": {"type": "array", "items": {"type": "string"}}, "style": "form", "explode": True}
        for name in FACETS
    ]  # fmt: skip
    return {
        "openapi": "3.0.3",
        "info": {"title": "Kutubxona API", "version": "1",
                 "description": "Search every element of the description and the full text; read a record."},
        "servers": [{"url": base_url}],
        "paths": {
            "/api/search": {
                "get": {
                    "summary": "Search the catalogue",
                    "operationId": "search",
                    "parameters": [
                        {"name": "q", "in": "query", "required": False,
                         "schema": {"type": "string", "maxLength": MAX_LENGTH},
                         "description": "words, field:word, \"phrases\", prefix*, OR, NOT, year:1990-2000; an ISBN, "
                                        "ISSN or DOI (bare, labelled or as a doi.org link) finds its record; at most "
                                        f"{MAX_LENGTH} characters and {MAX_WORDS} words (a longer query is a 400)"},
                        {"name": "page", "in": "query", "required": False,
                         "schema": {"type": "integer", "minimum": 1, "maximum": numbers.MAX_PAGE, "default": 1},
                         "description": "a page past the last readable one is empty"},
                        {"name": "size", "in": "query", "required": False,
                         "schema": {"type": "integer", "minimum": 1, "maximum": searching.MAX_SIZE, "default": 20}},
                        {"name": "sort", "in": "query", "required": False,
                         "schema": {"type": "string", "enum": list(SORTS), "default": "relevance"}},
                        *facet_params,
                    ],
                    "responses": {
                        "200": {"description": "one page of hits",
                                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Results"}}}},
                        "400": _ERROR,
                        "503": _ERROR,
                    },
                }
            },
            "/api/records/{id}": {
                "get": {
                    "summary": "One record",
                    "description": "What the record's page shows: its description, its files open to the "
                                   "public, how many others it has (never named), its host and parts",
                    "operationId": "record",
                    "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"},
                                    "description": "its local identifier (KTB000003) or its OAI identifier "
                                                   "(oai:<repository id>:KTB000003)"}],
                    "responses": {
                        "200": {"description": "the record",
                                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Record"}}}},
                        "404": _ERROR,
                        "410": _ERROR,
                    },
                }
            },
        },
        "components": {"schemas": _SCHEMAS},
    }  # fmt: skip


_STRINGS = {"type": "array", "items": {"type": "string"}}
_SCHEMAS: dict = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
    "Host": {
        "type": "object",
        "required": ["title", "part", "id"],
        "properties": {
            "title": {"type": "string"},
            "part": {"type": "string"},
            "id": {"type": "string", "nullable": True},
        },
    },
    "Snippet": {
        "type": "object",
        "required": ["field", "text", "marks"],
        "properties": {
            "field": {"type": "string"},
            "text": {"type": "string"},
            "marks": {
                "type": "array",
                "items": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2},
            },
            "file": {"type": "string"},
            "page": {"type": "integer"},
        },
    },
    "Hit": {
        "type": "object",
        "required": ["id", "oai_identifier", "url", "title", "authors", "year", "type", "score", "snippets"],
        "properties": {
            "id": {"type": "string"},
            "oai_identifier": {"type": "string"},
            "url": {"type": "string"},
            "title": {"type": "string"},
            "authors": _STRINGS,
            "year": {"type": "integer", "nullable": True},
            "type": {"type": "string"},
            "score": {"type": "number"},
            "snippets": {"type": "array", "items": {"$ref": "#/components/schemas/Snippet"}},
            "host": {"$ref": "#/components/schemas/Host"},
        },
    },
    "Results": {
        "type": "object",
        "required": ["query", "total", "page", "size", "sort", "pages", "hits", "facets", "suggestion"],
        "properties": {
            "query": {"type": "string"},
            "total": {"type": "integer", "minimum": 0},
            "page": {"type": "integer"},
            "size": {"type": "integer"},
            "sort": {"type": "string", "enum": list(SORTS)},
            "pages": {
                "type": "integer",
                "minimum": 0,
                "description": "pages that can be read (the engines stop at 10,000 hits)",
            },
            "hits": {"type": "array", "items": {"$ref": "#/components/schemas/Hit"}},
            "facets": {
                "type": "object",
                "additionalProperties": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["value", "count"],
                        "properties": {"value": {"type": "string"}, "count": {"type": "integer"}},
                    },
                },
            },
            "suggestion": {"type": "string", "nullable": True},
        },
    },
    "File": {
        "type": "object",
        "description": "a file open to the public",
        "required": ["name", "size", "mime", "access", "url"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string"},
            "size": {"type": "integer", "minimum": 0},
            "mime": {"type": "string"},
            "access": {"type": "string", "enum": ["open", "embargo"], "description": "embargo: one that has ended"},
            "url": {"type": "string", "format": "uri"},
        },
    },
    "Record": {
        "type": "object",
        "required": [
            "id",
            "oai_identifier",
            "url",
            "flavour",
            "title",
            "dc",
            "files",
            "closed_files",
            "hosts",
            "parts",
        ],
        "properties": {
            "id": {"type": "string"},
            "oai_identifier": {"type": "string"},
            "url": {"type": "string"},
            "flavour": {"type": "string", "enum": ["marc21", "unimarc", "dc"]},
            "type": {"type": "string"},
            "title": {"type": "string"},
            "year": {"type": "string"},
            "datestamp": {"type": "string"},
            "sets": _STRINGS,
            "formats": _STRINGS,
            "dc": {"type": "object", "additionalProperties": _STRINGS},
            "marc": {"type": "object", "nullable": True},
            "files": {"type": "array", "items": {"$ref": "#/components/schemas/File"}},
            "closed_files": {
                "type": "integer",
                "minimum": 0,
                "description": "how many files are not open to the public (restricted, or under embargo): "
                "counted, as on the record's page, never named",
            },
            "hosts": {"type": "array", "items": {"$ref": "#/components/schemas/Host"}},
            "parts": {"type": "array", "items": {"type": "object"}},
        },
    },
}
