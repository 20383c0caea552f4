"""Object storage: one small interface, content-addressed keys (sha256), backends chosen by URL."""

from __future__ import annotations

from repository.storage.base import ObjectStore, StorageError, StoredObject, local_copy
from repository.storage.local import LocalStore


def open_store(url: str, **options: str) -> ObjectStore:
    """The store for ``url``: ``file:///path`` (the embedded default) or ``s3://bucket``."""
    if url.startswith("file://"):
        return LocalStore.from_url(url)
    if url.startswith("s3://"):
        from repository.storage.s3 import S3Store  # boto3 only when asked for

        store = S3Store.from_url(url, **options)
        store.ensure_bucket()
        return store
    raise StorageError(f"unsupported storage URL {url!r}: use file:///path or s3://bucket")


__all__ = ["ObjectStore", "StoredObject", "StorageError", "LocalStore", "local_copy", "open_store"]
