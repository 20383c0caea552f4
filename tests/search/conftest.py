"""Every search test runs on both backends: the embedded one, and the OpenSearch API of osmem-server."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from flask import Flask

BACKENDS = ("embedded", "elasticsearch")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> dict[str, str]:
    """The settings of one backend (an alias of its own on the shared osmem-server)."""
    if request.param == "embedded":
        return {}
    url = request.getfixturevalue("osmem_url")
    return {"SEARCH_URL": url, "SEARCH_INDEX": f"test-{uuid.uuid4().hex[:12]}"}


@pytest.fixture
def app(make_app: Callable[..., Flask], backend: dict[str, str]) -> Flask:
    """The app on a fresh database, searching with the backend under test."""
    return make_app(**backend)
