"""Fixtures of the OAI-PMH core's tests."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest


@pytest.fixture
def tashkent(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local time zone set to UTC+5: a naive datetime read as local time is five hours off.

    Test machines and containers mostly run in UTC, where confusing naive UTC with local time
    goes unseen; a node in Uzbekistan runs in Asia/Tashkent.
    """
    monkeypatch.setenv("TZ", "Asia/Tashkent")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
