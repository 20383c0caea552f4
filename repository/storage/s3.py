"""S3 backend (any S3-compatible store: MinIO, Ceph RGW, AWS), through boto3: the only module that imports it.

Uploads stream through a temporary file while their sha256 is computed (the key is the digest, so
it must be known before the object is named), then go up in multipart parts; reads stream in
chunks; throttling and 5xx are retried with backoff by botocore's adaptive mode; every call has
timeouts.  Credentials come from the usual AWS variables and files.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import BinaryIO
from urllib.parse import urlparse

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from repository.storage.base import CHUNK, StorageError, StoredObject, digest_stream

PART = 8 * 1024 * 1024  # multipart threshold and part size: memory stays bounded for any size


class S3Store:
    """Objects in one bucket under ``prefix/ab/cd/<sha256>``."""

    def __init__(self, bucket: str, prefix: str = "", endpoint: str | None = None, retries: int = 5) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.url = f"s3://{bucket}/{self.prefix}".rstrip("/")
        config = Config(
            retries={"max_attempts": retries, "mode": "adaptive"},
            connect_timeout=10,
            read_timeout=60,
            s3={"addressing_style": "path"},
        )
        self.client = boto3.client("s3", endpoint_url=endpoint or None, config=config)
        self.transfer = TransferConfig(multipart_threshold=PART, multipart_chunksize=PART, max_concurrency=2)

    @classmethod
    def from_url(cls, url: str, endpoint: str = "", **_: str) -> S3Store:
        """A store for ``s3://bucket[/prefix]``."""
        parsed = urlparse(url)
        if not parsed.netloc:
            raise StorageError(f"no bucket in {url!r}")
        return cls(parsed.netloc, parsed.path, endpoint or None)

    def _key(self, key: str) -> str:
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            raise StorageError(f"not an object key: {key!r}")
        path = f"{key[:2]}/{key[2:4]}/{key}"
        return f"{self.prefix}/{path}" if self.prefix else path

    def _fail(self, action: str, exc: Exception) -> StorageError:
        return StorageError(f"{self.url}: cannot {action}: {exc}")

    def ensure_bucket(self) -> None:
        """Create the bucket when it does not exist."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            try:
                self.client.create_bucket(Bucket=self.bucket)
            except (ClientError, BotoCoreError) as exc:
                raise self._fail("create the bucket", exc) from None
        except BotoCoreError as exc:
            raise self._fail("reach the store", exc) from None

    def put(self, stream: BinaryIO) -> StoredObject:
        """Store ``stream``'s bytes (spooled to disk for hashing, then uploaded in parts)."""
        with tempfile.TemporaryFile() as spool:
            size, sha, md5 = digest_stream(stream, spool)
            if self.exists(sha):
                return StoredObject(sha, size, sha, md5)
            spool.seek(0)
            try:
                self.client.upload_fileobj(spool, self.bucket, self._key(sha), Config=self.transfer)
            except (ClientError, BotoCoreError) as exc:
                raise self._fail("upload", exc) from None
        return StoredObject(sha, size, sha, md5)

    def open(self, key: str) -> BinaryIO:
        """A streaming reader of the object."""
        return _Body(self._get(key, None))

    def read_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        """Bytes ``start``..``end`` (inclusive) of the object, in chunks."""
        body = self._get(key, f"bytes={start}-{end}")
        try:
            yield from body.iter_chunks(CHUNK)
        finally:
            body.close()

    def _get(self, key: str, byte_range: str | None):  # noqa: ANN202 - a botocore StreamingBody
        args = {"Bucket": self.bucket, "Key": self._key(key)}
        if byte_range:
            args["Range"] = byte_range
        try:
            return self.client.get_object(**args)["Body"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise StorageError(f"object {key} is missing from {self.url}") from None
            raise self._fail("read", exc) from None
        except BotoCoreError as exc:
            raise self._fail("read", exc) from None

    def _head(self, key: str) -> dict | None:
        """The object's metadata, or None when it is not stored; other failures raise ``StorageError``."""
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise self._fail("check an object", exc) from None
        except BotoCoreError as exc:
            raise self._fail("reach the store", exc) from None

    def exists(self, key: str) -> bool:
        """True when the object is stored."""
        return self._head(key) is not None

    def size(self, key: str) -> int:
        """The object's size in bytes."""
        head = self._head(key)
        if head is None:
            raise StorageError(f"object {key} is missing from {self.url}")
        return int(head["ContentLength"])

    def keys(self) -> Iterator[str]:
        """Every stored key."""
        paginator = self.client.get_paginator("list_objects_v2")
        prefix = f"{self.prefix}/" if self.prefix else ""
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    name = item["Key"].rsplit("/", 1)[-1]
                    if len(name) == 64:
                        yield name
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("list objects", exc) from None


class _Body:
    """A file-like reader over a botocore StreamingBody."""

    def __init__(self, body) -> None:  # noqa: ANN001
        self.body = body

    def read(self, size: int = -1) -> bytes:
        return self.body.read(None if size < 0 else size)

    def close(self) -> None:
        self.body.close()

    def __enter__(self) -> _Body:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
