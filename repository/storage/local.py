"""Local folder backend (the embedded default): objects under ``root/ab/cd/<sha256>``."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlparse

from repository.storage.base import CHUNK, StorageError, StoredObject, digest_stream


class LocalStore:
    """Objects in a folder; writes go to a temporary file first, then are renamed into place."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = root.as_uri()

    @classmethod
    def from_url(cls, url: str) -> LocalStore:
        """A store for a ``file:///path`` URL."""
        return cls(Path(unquote(urlparse(url).path)))

    def _path(self, key: str) -> Path:
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            raise StorageError(f"not an object key: {key!r}")
        return self.root / key[:2] / key[2:4] / key

    def put(self, stream: BinaryIO) -> StoredObject:
        """Store ``stream``'s bytes; an object already stored is not written again."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as sink:
                size, sha, md5 = digest_stream(stream, sink)
                sink.flush()
                os.fsync(sink.fileno())
            target = self._path(sha)
            if target.exists():
                os.unlink(tmp)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return StoredObject(sha, size, sha, md5)

    def open(self, key: str) -> BinaryIO:
        """Open an object for reading."""
        try:
            return open(self._path(key), "rb")
        except FileNotFoundError:
            raise StorageError(f"object {key} is missing from {self.url}") from None

    def read_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        """Bytes ``start``..``end`` (inclusive) of an object, in chunks."""
        with self.open(key) as fh:
            fh.seek(start)
            left = end - start + 1
            while left > 0:
                chunk = fh.read(min(CHUNK, left))
                if not chunk:
                    return
                left -= len(chunk)
                yield chunk

    def size(self, key: str) -> int:
        """The object's size in bytes."""
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            raise StorageError(f"object {key} is missing from {self.url}") from None

    def exists(self, key: str) -> bool:
        """True when the object is stored."""
        return self._path(key).exists()

    def keys(self) -> Iterator[str]:
        """Every stored key."""
        if self.root.exists():
            for path in sorted(self.root.glob("??/??/*")):
                if len(path.name) == 64:
                    yield path.name
