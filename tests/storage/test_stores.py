"""Both storage backends through one interface: local folder and S3 (moto_server over HTTP)."""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from pathlib import Path

import pytest

from repository.storage import StorageError, open_store
from repository.storage.s3 import PART


class Generated(io.RawIOBase):
    """``size`` deterministic bytes, generated as they are read (no big file on disk)."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.counter = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # noqa: ANN001
        n = min(len(buffer), self.left)
        if n == 0:
            return 0
        block = hashlib.sha256(str(self.counter).encode()).digest() * (n // 32 + 1)
        buffer[:n] = block[:n]
        self.counter += 1
        self.left -= n
        return n


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path: Path):  # noqa: ANN001, ANN201
    if request.param == "local":
        return open_store((tmp_path / "objects").as_uri())
    endpoint = request.getfixturevalue("moto_server")
    return open_store(f"s3://kx-{uuid.uuid4().hex[:12]}/objects", endpoint=endpoint)


def test_put_open_range_exists_keys(store):  # noqa: ANN001
    data = "Oʻzbekiston — Ўзбекистон".encode() * 100
    stored = store.put(io.BytesIO(data))
    assert stored.key == stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.md5 == hashlib.md5(data).hexdigest() and stored.size == len(data)
    assert store.put(io.BytesIO(data)).key == stored.key  # the same bytes are stored once
    with store.open(stored.key) as fh:
        assert fh.read() == data
    assert b"".join(store.read_range(stored.key, 10, 99)) == data[10:100]
    assert store.exists(stored.key) and store.size(stored.key) == len(data)
    assert list(store.keys()) == [stored.key]


def test_missing_object_is_a_clear_error(store):  # noqa: ANN001
    missing = "0" * 64
    assert not store.exists(missing)
    with pytest.raises(StorageError, match="missing"):
        store.open(missing).read()
    with pytest.raises(StorageError):
        store.open("../../etc/passwd")


def test_multipart_upload_streams_generated_bytes(store):  # noqa: ANN001
    size = PART * 2 + 12345  # three parts, never in memory at once
    expected = hashlib.sha256()
    reference = Generated(size)
    while chunk := reference.read(1 << 20):
        expected.update(chunk)
    stored = store.put(Generated(size))
    assert stored.size == size and stored.sha256 == expected.hexdigest()
    tail = b"".join(store.read_range(stored.key, size - 100, size - 1))
    assert len(tail) == 100


def test_s3_endpoint_down_is_a_clear_error(tmp_path: Path):
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    with pytest.raises(StorageError, match="cannot"):
        open_store("s3://nowhere", endpoint="http://127.0.0.1:9")  # nothing listens on port 9
