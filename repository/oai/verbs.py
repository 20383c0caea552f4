"""The six OAI-PMH verbs and ``respond``, which turns a request into the response's bytes."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from repository.metadata.identifiers import local_from_oai, oai_identifier
from repository.oai import errors as e
from repository.oai import tokens
from repository.oai.request import OAIRequest, parse_request
from repository.oai.settings import OAISettings
from repository.oai.store import Criteria, Item, Store
from repository.oai.xmlwrite import HEAD, TAIL, element, payload, text, utc

LIST_VERBS = frozenset({"ListRecords", "ListIdentifiers", "ListSets"})
log = logging.getLogger("kutubxona.oai")
Verb = Callable[[OAIRequest, Store, OAISettings, datetime], list[bytes | str]]


def respond(pairs: Sequence[tuple[str, str]], store: Store, settings: OAISettings, now: datetime) -> bytes:
    """The complete response to a request given as its (name, value) argument pairs.

    ``now`` is naive UTC, taken after the store's barrier (``catalogue.stamps``): a list's window
    closes just before it, so the clock read here would let a change being committed slip past.
    """
    now = _second(now)
    request: OAIRequest | None = None
    try:
        request = parse_request(pairs)
        body = VERBS[request.verb](request, store, settings, now)
    except e.OAIError as error:
        # harvests run for days: a failing token chain must show in the logs (CHECKLIST 143)
        log.log(logging.WARNING if error.code == "badResumptionToken" else logging.INFO, "%s: %s", error.code, error)
        echo = request.arguments if request is not None and error.echo_arguments else {}
        return _error(settings, now, echo, error)
    return _envelope(settings, now, request.arguments, body)


def refusal(error: e.BadVerb | e.BadArgument, settings: OAISettings) -> bytes:
    """The error response to a request refused before its arguments could be read (by the HTTP server)."""
    return _error(settings, _second(None), {}, error)


def _second(now: datetime | None) -> datetime:
    """``now`` (or the present) in naive UTC, to the second: the granularity of responseDate."""
    return (now or datetime.now(UTC)).replace(tzinfo=None, microsecond=0)


def _error(settings: OAISettings, now: datetime, echo: dict[str, str], error: e.OAIError) -> bytes:
    return _envelope(settings, now, echo, [element("error", str(error) or error.code, code=error.code)])


def _envelope(settings: OAISettings, now: datetime, echo: dict[str, str], body: list[bytes | str]) -> bytes:
    # OAI-PMH 3.2: responseDate, then request (attributes only when the request was legal)
    head = element("responseDate", utc(now)) + element("request", settings.base_url, **echo)
    parts = [HEAD, head.encode()]
    parts.extend(p if isinstance(p, bytes) else p.encode() for p in body)
    parts.append(TAIL)
    return b"".join(parts)


# ------------------------------------------------------------------------------------------ Identify


def identify(request: OAIRequest, store: Store, settings: OAISettings, now: datetime) -> list[bytes | str]:
    """OAI-PMH 4.2."""
    earliest = store.earliest_datestamp() or now
    sample = store.sample_local_id() or "sample"
    out = [
        "<Identify>",
        element("repositoryName", settings.repository_name),
        element("baseURL", settings.base_url),
        element("protocolVersion", "2.0"),
        *(element("adminEmail", email) for email in settings.admin_emails),
        element("earliestDatestamp", utc(earliest)),
        element("deletedRecord", "persistent"),  # tombstones are kept forever
        element("granularity", "YYYY-MM-DDThh:mm:ssZ"),
        *(element("compression", c) for c in settings.compression),  # 4.2: never "identity"
        "<description>",
        '<oai-identifier xmlns="http://www.openarchives.org/OAI/2.0/oai-identifier"'
        ' xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/oai-identifier'
        ' http://www.openarchives.org/OAI/2.0/oai-identifier.xsd">',
        element("scheme", "oai"),
        element("repositoryIdentifier", settings.repository_id),
        element("delimiter", ":"),
        element("sampleIdentifier", oai_identifier(settings.repository_id, sample)),
        "</oai-identifier></description>",
    ]
    if settings.friends:
        out += [
            '<description><friends xmlns="http://www.openarchives.org/OAI/2.0/friends/"'
            ' xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/friends/'
            ' http://www.openarchives.org/OAI/2.0/friends.xsd">',
            *(element("baseURL", url) for url in settings.friends),
            "</friends></description>",
        ]
    out.append("</Identify>")
    return out


# ------------------------------------------------------------------------------------------ formats


def list_metadata_formats(request: OAIRequest, store: Store, settings: OAISettings, now: datetime) -> list[bytes | str]:
    """OAI-PMH 4.4: all formats, or those one item has (for a tombstone: had)."""
    formats = list(settings.formats)
    if request.identifier is not None:
        local = _local_id(settings, request.identifier)
        prefixes = store.record_formats(local)
        if prefixes is None:
            raise e.IdDoesNotExist(f"no item {request.identifier!r} in this repository")
        formats = [f for f in formats if f.prefix in prefixes]
        if not formats:
            raise e.NoMetadataFormats(f"{request.identifier} has no metadata formats")
    out: list[bytes | str] = ["<ListMetadataFormats>"]
    for f in formats:
        out.append(
            "<metadataFormat>"
            + element("metadataPrefix", f.prefix)
            + element("schema", f.schema)
            + element("metadataNamespace", f.namespace)
            + "</metadataFormat>"
        )
    out.append("</ListMetadataFormats>")
    return out


def _local_id(settings: OAISettings, identifier: str) -> str:
    local = local_from_oai(settings.repository_id, identifier)
    if local is None:
        raise e.IdDoesNotExist(f"{identifier!r} is not an identifier of this repository")
    return local


def _check_prefix(settings: OAISettings, prefix: str) -> None:
    if prefix not in {f.prefix for f in settings.formats}:
        raise e.CannotDisseminateFormat(f"this repository does not disseminate {prefix!r}")


# ------------------------------------------------------------------------------------------ records


def _minimal(specs: Sequence[str]) -> list[str]:
    """OAI-PMH 2.6: list a set only when no other listed set lies below it (``a`` is implied by ``a:b``)."""
    return [s for s in specs if not any(t != s and t.startswith(s + ":") for t in specs)]


def _header(settings: OAISettings, item: Item) -> str:
    status = ' status="deleted"' if item.deleted else ""
    specs = "".join(element("setSpec", s) for s in _minimal(item.set_specs))
    return (
        f"<header{status}>"
        + element("identifier", oai_identifier(settings.repository_id, item.local_id))
        + f"<datestamp>{utc(item.datestamp)}</datestamp>"  # digits, '-', ':', 'T', 'Z': nothing to escape
        + specs
        + "</header>"
    )


def _record(settings: OAISettings, item: Item) -> list[bytes | str]:
    # OAI-PMH 2.5: a deleted record is its header alone
    if item.deleted or item.payload is None:
        return ["<record>" + _header(settings, item) + "</record>"]
    out = ["<record>" + _header(settings, item) + "<metadata>", payload(item.payload), "</metadata>"]
    if item.about:
        out.append(payload(item.about))  # OAI-PMH 2.5: about containers follow the metadata
    out.append("</record>")
    return out


def get_record(request: OAIRequest, store: Store, settings: OAISettings, now: datetime) -> list[bytes | str]:
    """OAI-PMH 4.1."""
    assert request.identifier is not None and request.prefix is not None
    local = _local_id(settings, request.identifier)
    prefixes = store.record_formats(local)
    if prefixes is None:
        raise e.IdDoesNotExist(f"no item {request.identifier!r} in this repository")
    _check_prefix(settings, request.prefix)
    if request.prefix not in prefixes:
        raise e.CannotDisseminateFormat(f"{request.identifier} is not available as {request.prefix}")
    item = store.get(local, request.prefix)
    if item is None:
        raise e.IdDoesNotExist(f"no item {request.identifier!r} in this repository")
    return ["<GetRecord>", *_record(settings, item), "</GetRecord>"]


def _list_items(
    request: OAIRequest, store: Store, settings: OAISettings, now: datetime, with_payload: bool
) -> tuple[list[Item], str]:
    """The items of this page and the ``resumptionToken`` element that ends it ('' for none)."""
    if request.token is not None:
        cursor = tokens.decode(settings.secret_key, request.verb, request.token, now)
        criteria = Criteria(
            cursor.prefix or "", cursor.set_spec, tokens.from_epoch(cursor.from_), tokens.from_epoch(cursor.until)
        )
        after = (tokens.from_epoch(cursor.last_datestamp), cursor.last_key)
        first = False
    else:
        assert request.prefix is not None
        _check_prefix(settings, request.prefix)
        if request.set_spec is not None:
            if not store.has_sets():
                raise e.NoSetHierarchy("this repository has no sets")
            if not store.set_exists(request.set_spec):
                raise e.NoRecordsMatch(f"there is no set {request.set_spec!r}")
        # The window's end is frozen at the second before this first request's responseDate: what
        # changes during the harvest (or later in this second) comes in the next harvest, which asks
        # from that responseDate (inclusive, OAI-PMH 3.3.1), and never twice in this one.  The
        # store must make every change stamped before ``now`` visible here (catalogue.stamps).
        closed = now - timedelta(seconds=1)
        until = min(request.until, closed) if request.until is not None else closed
        if request.from_ is not None and request.from_ > until:
            raise e.NoRecordsMatch("no records in that window yet")
        criteria = Criteria(request.prefix, request.set_spec, request.from_, until)
        size = store.count(criteria)
        if size == 0:
            raise e.NoRecordsMatch("no records match the request")
        expires = tokens.epoch(now + timedelta(hours=settings.token_ttl_hours))
        cursor = tokens.Cursor(
            criteria.prefix, criteria.set_spec, tokens.epoch(criteria.from_), tokens.epoch(until),
            None, None, None, 0, size, expires or 0,
        )  # fmt: skip
        after = None
        first = True
    page = store.page(criteria, after, settings.page_size + 1, with_payload)
    if not page:
        # everything left of the list changed (and moved out of its window) since the last page
        raise e.NoRecordsMatch("the rest of this list has changed since the previous page; harvest again")
    more = len(page) > settings.page_size
    page = page[: settings.page_size]
    return page, _token_element(settings, request.verb, cursor, page, more, first)


def _token_element(settings: OAISettings, verb: str, cursor: tokens.Cursor, page: list, more: bool, first: bool) -> str:
    """OAI-PMH 3.5: a token while the list goes on, an empty one on its last page, none for a one-page list."""
    if not more and first:
        return ""
    expiry = utc(tokens.from_epoch(cursor.expires))
    common = {"completeListSize": max(cursor.size, cursor.sent + len(page)), "cursor": cursor.sent}
    if not more:
        return element("resumptionToken", None, **common)
    last = page[-1]
    if isinstance(last, Item):
        nxt = tokens.Cursor(
            cursor.prefix, cursor.set_spec, cursor.from_, cursor.until, tokens.epoch(last.datestamp), last.key,
            None, cursor.sent + len(page), cursor.size, cursor.expires,
        )  # fmt: skip
    else:
        nxt = tokens.Cursor(None, None, None, None, None, None, last.spec, cursor.sent + len(page), cursor.size,
                            cursor.expires)  # fmt: skip
    token = tokens.encode(settings.secret_key, verb, nxt)
    return element("resumptionToken", token, expirationDate=expiry, **common)


def list_records(request: OAIRequest, store: Store, settings: OAISettings, now: datetime) -> list[bytes | str]:
    """OAI-PMH 4.5."""
    page, token = _list_items(request, store, settings, now, with_payload=True)
    out: list[bytes | str] = ["<ListRecords>"]
    for item in page:
        out.extend(_record(settings, item))
    out += [token, "</ListRecords>"]
    return out


def list_identifiers(request: OAIRequest, store: Store, settings: OAISettings, now: datetime) -> list[bytes | str]:
    """OAI-PMH 4.3."""
    page, token = _list_items(request, store, settings, now, with_payload=False)
    return ["<ListIdentifiers>", *(_header(settings, item) for item in page), token, "</ListIdentifiers>"]


def list_sets(request: OAIRequest, store: Store, settings: OAISettings, now: datetime) -> list[bytes | str]:
    """OAI-PMH 4.6, paged like the other lists."""
    if request.token is not None:
        cursor = tokens.decode(settings.secret_key, request.verb, request.token, now)
        after, first = cursor.after_spec, False
    else:
        size = store.count_sets()
        if size == 0:
            raise e.NoSetHierarchy("this repository has no sets")
        expires = tokens.epoch(now + timedelta(hours=settings.token_ttl_hours)) or 0
        cursor = tokens.Cursor(None, None, None, None, None, None, None, 0, size, expires)
        after, first = None, True
    page = store.sets(after, settings.page_size + 1)
    if not page:
        raise e.NoSetHierarchy("the sets after this point were removed; list the sets again")
    more = len(page) > settings.page_size
    page = page[: settings.page_size]
    out: list[bytes | str] = ["<ListSets>"]
    for s in page:
        out.append("<set>" + element("setSpec", s.spec) + element("setName", s.name))
        if s.description:
            out.append(
                '<setDescription><oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"'
                ' xmlns:dc="http://purl.org/dc/elements/1.1/" xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/oai_dc/'
                ' http://www.openarchives.org/OAI/2.0/oai_dc.xsd">'
                f"<dc:description>{text(s.description)}</dc:description></oai_dc:dc></setDescription>"
            )
        out.append("</set>")
    out += [_token_element(settings, request.verb, cursor, page, more, first), "</ListSets>"]
    return out


VERBS: dict[str, Verb] = {
    "Identify": identify,
    "ListMetadataFormats": list_metadata_formats,
    "ListSets": list_sets,
    "GetRecord": get_record,
    "ListIdentifiers": list_identifiers,
    "ListRecords": list_records,
}
