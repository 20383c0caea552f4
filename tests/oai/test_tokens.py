"""Resumption tokens: deterministic, URL-safe, signed per verb, expiring."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from repository.oai import tokens
from repository.oai.errors import BadResumptionToken

NOW = datetime(2026, 1, 1, 12, 0, 0)
CURSOR = tokens.Cursor("oai_dc", "a:b", None, tokens.epoch(NOW), 1767268800, 42, None, 7, 100,
                       tokens.epoch(NOW + timedelta(hours=48)))  # fmt: skip


def test_round_trip_and_determinism():
    token = tokens.encode("secret", "ListRecords", CURSOR)
    assert token == tokens.encode("secret", "ListRecords", CURSOR)  # same page, same bytes (CHECKLIST 139)
    assert re.fullmatch(r"[A-Za-z0-9._~-]+", token)  # unreserved characters only (CHECKLIST 100)
    assert tokens.decode("secret", "ListRecords", token, NOW) == CURSOR


@pytest.mark.parametrize(
    ("secret", "verb", "mangle"),
    [
        ("other", "ListRecords", lambda t: t),  # another repository's, or forged
        ("secret", "ListIdentifiers", lambda t: t),  # issued for another verb
        ("secret", "ListRecords", lambda t: t[:-3]),  # truncated
        ("secret", "ListRecords", lambda t: "x" + t),
        ("secret", "ListRecords", lambda t: "junk"),
    ],
)
def test_bad_tokens(secret, verb, mangle):
    token = mangle(tokens.encode("secret", "ListRecords", CURSOR))
    with pytest.raises(BadResumptionToken):
        tokens.decode(secret, verb, token, NOW)


def test_expired_token():
    token = tokens.encode("secret", "ListRecords", CURSOR)
    with pytest.raises(BadResumptionToken, match="expired"):
        tokens.decode("secret", "ListRecords", token, NOW + timedelta(hours=49))


@pytest.mark.usefixtures("tashkent")
def test_times_are_utc_whatever_the_local_time_zone():
    # naive datetimes are UTC here; read as local time they would be five hours off in Tashkent
    assert tokens.epoch(NOW) == 1767268800  # 2026-01-01T12:00:00Z
    assert tokens.from_epoch(1767268800) == NOW
    token = tokens.encode("secret", "ListRecords", CURSOR)  # expires at NOW + 48 h
    assert tokens.decode("secret", "ListRecords", token, NOW + timedelta(hours=47, minutes=59)) == CURSOR
    with pytest.raises(BadResumptionToken, match="expired"):
        tokens.decode("secret", "ListRecords", token, NOW + timedelta(hours=48, seconds=1))
