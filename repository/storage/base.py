"""The object store interface and what it returns."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from repository.errors import Unavailable

CHUNK = 1 << 20


class StorageError(Unavailable, RuntimeError):
    """The object store failed or holds no such object."""


@dataclass(frozen=True)
class StoredObject:
    """An object as stored: its key (the sha256 of its bytes), size and checksums."""

    key: str
    size: int
    sha256: str
    md5: str


class ObjectStore(Protocol):
    """Content-addressed object storage: the same bytes are stored once."""

    url: str

    def put(self, stream: BinaryIO) -> StoredObject:
        """Store the bytes of ``stream`` (read to its end) and return where they are."""
        ...

    def open(self, key: str) -> BinaryIO:
        """Read an object; raise ``StorageError`` when it is missing."""
        ...

    def read_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        """Bytes ``start``..``end`` (inclusive) of an object, in chunks."""
        ...

    def exists(self, key: str) -> bool:
        """True when the object is stored."""
        ...

    def size(self, key: str) -> int:
        """The object's size in bytes."""
        ...

    def keys(self) -> Iterator[str]:
        """Every stored key."""
        ...


def digest_stream(stream: BinaryIO, sink: BinaryIO | None = None) -> tuple[int, str, str]:
    """Read ``stream`` in chunks (copying to ``sink``): return size, sha256 and md5 hex digests."""
    sha, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    while chunk := stream.read(CHUNK):
        sha.update(chunk)
        md5.update(chunk)
        size += len(chunk)
        if sink is not None:
            sink.write(chunk)
    return size, sha.hexdigest(), md5.hexdigest()


@contextmanager
def local_copy(store: ObjectStore, key: str, name: str) -> Iterator[Path]:
    """A stored object as a temporary local file called ``name`` (for what reads files: importers, OCR),
    removed afterwards; ``StorageError`` when the store cannot give it."""
    with tempfile.TemporaryDirectory(prefix="kutubxona-") as folder:
        path = Path(folder) / (Path(name).name or "object")
        with store.open(key) as source, open(path, "wb") as target:
            shutil.copyfileobj(source, target, CHUNK)
        yield path
