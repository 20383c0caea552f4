"""Resumption tokens: signed, stateless keyset cursors (OAI-PMH 3.5).

A token carries the list's original arguments, the ``until`` frozen at the first request, the
keyset position of the last item sent, how many items were sent, the list size counted at the
first request and the chain's expiry.  It is signed with the repository's secret, salted with
the verb, so a forged, truncated or foreign-verb token fails; it needs no server state, so it
survives restarts and works across workers.  Only URL-unreserved characters appear in it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from itsdangerous import BadData, URLSafeSerializer

from repository.oai.errors import BadResumptionToken


@dataclass(frozen=True)
class Cursor:
    """Where a list stands: its arguments, its frozen window, the last item sent and the counts."""

    prefix: str | None  # None for ListSets
    set_spec: str | None
    from_: int | None  # epoch seconds
    until: int | None
    last_datestamp: int | None  # keyset position: (datestamp, key) of the last item sent,
    last_key: int | None  # or for ListSets the last spec in ``after_spec``
    after_spec: str | None
    sent: int  # items sent before the next page: the next page's ``cursor``
    size: int  # completeListSize, counted once at the first request
    expires: int  # epoch seconds: the chain's end


def _serializer(secret: str, verb: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=f"kutubxona.oai.{verb}")


def encode(secret: str, verb: str, cursor: Cursor) -> str:
    """The token for ``cursor``: the same cursor always gives the same token."""
    return _serializer(secret, verb).dumps(list(asdict(cursor).values()))


def decode(secret: str, verb: str, token: str, now: datetime) -> Cursor:
    """The cursor in ``token``; raise ``BadResumptionToken`` for a forged, foreign or expired one."""
    try:
        values = _serializer(secret, verb).loads(token)
        cursor = Cursor(*values)
    except (BadData, TypeError, ValueError):
        raise BadResumptionToken("the resumption token is not one this repository issued for this verb") from None
    if now.replace(tzinfo=UTC).timestamp() > cursor.expires:
        raise BadResumptionToken("the resumption token has expired; start the list again")
    return cursor


def epoch(value: datetime | None) -> int | None:
    """Naive UTC datetime to epoch seconds."""
    return None if value is None else int(value.replace(tzinfo=UTC).timestamp())


def from_epoch(value: int | None) -> datetime | None:
    """Epoch seconds to a naive UTC datetime."""
    return None if value is None else datetime.fromtimestamp(value, UTC).replace(tzinfo=None)
