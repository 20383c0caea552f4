"""Files as people receive them: through a pipe, compressed (gzip, bzip2, xz), zipped, or still being written.

An import reads a copy of its file made once, here, in a private temporary folder, with the
sha256 of its bytes taken as they are copied: that copy is what goes into the object store as the
batch's original and what the records are read from.  So a file that changes while it is being
imported (a download still running, a file overwritten) can never give a batch other than the
original it stores, and a pipe (``zcat x.mrc.gz | kutubxona import -``, ``<(...)``), which can be
read only once and never rewound, is read like a file.

A compressed file is known by its first bytes, not its name, and unpacked into the copy; a zip
holds several files, each imported on its own.  Unpacking is bounded, so that a decompression
bomb (a few kilobytes that unpack to terabytes) is refused in one line: a file may unpack to
``ratio`` times its own size (past the first ``FLOOR`` bytes) and to ``unpacked`` bytes at most.
A zip entry is read by its bytes, never written out under its name: entries whose names are paths
outside the archive, links or encrypted are refused, folders and macOS's resource forks passed
over.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import lzma
import os
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from repository.errors import KutubxonaError
from repository.storage.base import CHUNK

FLOOR = 16 << 20  # below this many bytes unpacked, no ratio is suspicious
STREAMS = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz"}
ZIP = (b"PK\x03\x04", b"PK\x05\x06")  # an archive with entries; an empty one
OTHERS = {b"7z\xbc\xaf\x27\x1c": "a 7z archive", b"Rar!\x1a\x07": "a RAR archive", b"\x28\xb5\x2f\xfd": "zstd"}
_OPEN = {"gzip": gzip.open, "bzip2": bz2.open, "xz": lzma.open}
_CORRUPT = (OSError, EOFError, lzma.LZMAError, zlib.error, zipfile.BadZipFile, ValueError)
_DEPTH = 3  # a file compressed inside an archive inside a compressed file, at most


@dataclass(frozen=True)
class Bounds:
    """How far a compressed file may unpack (``KUTUBXONA_IMPORT_MAX_UNPACKED`` and ``_MAX_RATIO``)."""

    unpacked: int = 10_000_000_000
    ratio: int = 100


@dataclass(frozen=True)
class Received:
    """One file to import: its private copy, size and sha256; or, without a copy, why it cannot be read."""

    name: str  # as the report shows it: the path given, "-" for standard input, "archive.zip:entry" for an entry
    label: str  # as the batch keeps it: the file's own name, "archive.zip:entry"
    path: Path | None = None
    size: int = 0
    sha256: str = ""
    how: str = ""  # "", or how it was received: "gzip", "zip", "gzip in zip"
    error: str | None = None
    note: str | None = None  # a problem with the file as a whole that left it readable (cut short)


class Refused(KutubxonaError, ValueError):
    """A file that is not unpacked (a decompression bomb, an unreadable or odd archive): the reason."""


class Unpacked:
    """The files one source holds, each copied (and unpacked) into a private folder when it is reached.

    ``count`` is known on entering: 1 for a file, a pipe or a compressed file, the entries of a zip.
    Iterating yields the ``Received`` files one at a time; each copy is removed when the next is
    asked for, and the folder when the ``with`` block ends.
    """

    def __init__(self, source: Path | BinaryIO, name: str, bounds: Bounds = Bounds()) -> None:  # noqa: B008
        self.source, self.name, self.bounds = source, name, bounds
        if name == "-":
            name = "stdin"
        self.name, self.label = name, Path(name).name or name
        self.count = 1
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._first: Received | None = None
        self._zip: zipfile.ZipFile | None = None
        self._entries: list[zipfile.ZipInfo] = []
        self._budget: _Budget | None = None

    def __enter__(self) -> Unpacked:
        self._folder = tempfile.TemporaryDirectory(prefix="kutubxona-import-")
        folder = Path(self._folder.name)
        try:
            received = _copy(self.source, folder / "received", self.name, self.label)
        except Refused as exc:
            self._first = Received(self.name, self.label, error=str(exc))
            return self
        kind = _kind(received.path)
        if kind.startswith(_REFUSED):
            self._first = Received(self.name, self.label, error=_not_read(kind))
        elif kind == "zip":
            self._open_zip(received)
        elif kind in STREAMS.values():
            self._budget = _Budget(self.bounds, received.size)
            self._first = self._unpacked(received, kind, 1)
        else:
            self._first = received
        return self

    def __exit__(self, *exc: object) -> None:
        if self._zip is not None:
            self._zip.close()
        if self._folder is not None:
            self._folder.cleanup()

    def __iter__(self) -> Iterator[Received]:
        if self._first is not None:
            yield self._first
            return
        assert self._zip is not None and self._budget is not None
        for number, entry in enumerate(self._entries, 1):
            received = self._entry(entry, number)
            yield received
            if received.path is not None:
                received.path.unlink(missing_ok=True)
            if received.error and self._budget.spent():
                return  # past the bounds: the rest of the archive is not read

    def _open_zip(self, received: Received) -> None:
        assert received.path is not None
        try:
            self._zip = zipfile.ZipFile(received.path)
        except _CORRUPT as exc:
            self._first = Received(self.name, self.label, error=f"not a readable zip archive: {exc}")
            return
        self._entries = [e for e in self._zip.infolist() if not _passed_over(e)]
        self._budget = _Budget(self.bounds, received.size)
        self.count = len(self._entries)
        if not self._entries:
            self._first = Received(self.name, self.label, error="the zip archive holds no file")

    def _entry(self, entry: zipfile.ZipInfo, number: int) -> Received:
        """One entry of the zip, copied out by its bytes (never by its name), or why not."""
        assert self._zip is not None and self._budget is not None and self._folder is not None
        name, label = f"{self.name}:{entry.filename}", f"{self.label}:{entry.filename}"
        odd = _odd_entry(entry)
        if odd:
            return Received(name, label, error=f"zip entry refused: {odd}")
        target = Path(self._folder.name) / f"entry-{number}"
        try:
            with self._zip.open(entry) as source:
                size, sha = _write(_Bounded(source, self._budget), target)
        except Refused as exc:
            return Received(name, label, error=str(exc))
        except _CORRUPT as exc:
            return Received(name, label, error=f"zip entry cannot be read: {exc}")
        received = Received(name, label, target, size, sha, "zip")
        kind = _kind(target)
        if kind in STREAMS.values():
            return self._unpacked(received, kind, 2)
        if kind == "zip":
            return Received(name, label, error="a zip inside a zip archive: unpack the inner one first")
        if kind.startswith(_REFUSED):
            return Received(name, label, error=_not_read(kind))
        return received

    def _unpacked(self, packed: Received, kind: str, depth: int) -> Received:
        """A gzip, bzip2 or xz file unpacked into a copy of its own, bounded; the packed copy is removed."""
        assert packed.path is not None and self._budget is not None
        how = f"{kind} in {packed.how}" if packed.how else kind
        if depth > _DEPTH:
            return Received(packed.name, packed.label, error=f"{how}: compressed too many times over")
        target = packed.path.with_name(packed.path.name + "-unpacked")
        note = None
        try:
            with _OPEN[kind](packed.path, "rb") as source:
                size, sha = _write(_Bounded(source, self._budget), target)
        except Refused as exc:
            return Received(packed.name, packed.label, error=str(exc))
        except EOFError:  # cut short: what came before the cut is the file as far as it goes
            size, sha = _digest(target)
            note = f"the {kind} file is cut short: its records up to the cut are read, the rest is missing"
        except _CORRUPT as exc:
            return Received(packed.name, packed.label, error=f"not a readable {kind} file: {exc}")
        finally:
            packed.path.unlink(missing_ok=True)
        received = Received(packed.name, packed.label, target, size, sha, how, note=note)
        inner = _kind(target)
        if inner in STREAMS.values():
            return self._unpacked(received, inner, depth + 1)
        if inner == "zip":
            return Received(packed.name, packed.label, error=f"a zip archive inside {how}: unpack it first")
        if inner.startswith(_REFUSED):
            return Received(packed.name, packed.label, error=_not_read(inner))
        return received


def _copy(source: Path | BinaryIO, target: Path, name: str, label: str) -> Received:
    """Copy ``source`` to ``target`` taking its sha256; a regular file that changes meanwhile is refused."""
    if not isinstance(source, Path):
        if source.isatty():
            raise Refused("standard input is a terminal: pipe a file into it (zcat x.mrc.gz | kutubxona import -)")
        size, sha = _write(source, target)
        return Received(name, label, target, size, sha)
    try:
        stream = open(source, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise Refused(f"cannot read it: {exc.strerror}") from None
    with stream:
        before = os.fstat(stream.fileno())
        if stat.S_ISDIR(before.st_mode):
            raise Refused("it is a folder")
        try:
            size, sha = _write(stream, target)
        except OSError as exc:
            raise Refused(f"cannot read it: {exc.strerror}") from None
        after = os.fstat(stream.fileno())
    same = (before.st_size, before.st_mtime_ns) == (after.st_size, after.st_mtime_ns) == (size, after.st_mtime_ns)
    if stat.S_ISREG(before.st_mode) and not same:
        raise Refused("it changed while it was being read (is it still being written?); "
                      "import it again once it is complete")  # fmt: skip
    return Received(name, label, target, size, sha)


def _write(source: BinaryIO, target: Path) -> tuple[int, str]:
    """Copy ``source`` into ``target`` (readable by this user alone): size and sha256 of the bytes."""
    sha, size = hashlib.sha256(), 0
    with open(target, "xb") as sink:
        os.chmod(target, 0o600)
        while chunk := source.read(CHUNK):
            sha.update(chunk)
            size += len(chunk)
            sink.write(chunk)
    return size, sha.hexdigest()


def _digest(path: Path) -> tuple[int, str]:
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            sha.update(chunk)
    return path.stat().st_size, sha.hexdigest()


_REFUSED = "refused: "


def _not_read(kind: str) -> str:
    return f"{kind.removeprefix(_REFUSED)} is not read: unpack it first (gzip, bzip2, xz and zip files are read)"


def _kind(path: Path | None) -> str:
    """``gzip``, ``bzip2``, ``xz``, ``zip`` or ``plain`` by the first bytes; ``refused: ...`` for other archives."""
    if path is None:
        return "plain"
    with open(path, "rb") as fh:
        head = fh.read(512)
    for magic, kind in STREAMS.items():
        if head.startswith(magic):
            return kind
    if head.startswith(ZIP):
        return "zip"
    for magic, kind in OTHERS.items():
        if head.startswith(magic):
            return _REFUSED + kind
    if head[257:262] == b"ustar":
        return _REFUSED + "a tar archive"
    return "plain"


class _Budget:
    """What the unpacking of one received file may still write, shared by everything inside it."""

    def __init__(self, bounds: Bounds, packed: int) -> None:
        by_ratio = max(FLOOR, bounds.ratio * packed)
        self.limit = min(bounds.unpacked, by_ratio)
        if self.limit == bounds.unpacked:
            self.why = f"more than {bounds.unpacked:,} bytes (KUTUBXONA_IMPORT_MAX_UNPACKED)"
        else:
            self.why = (f"more than {bounds.ratio} times its {packed:,} bytes, as a decompression bomb does "
                        "(KUTUBXONA_IMPORT_MAX_RATIO)")  # fmt: skip
        self.written = 0

    def take(self, size: int) -> None:
        self.written += size
        if self.written > self.limit:
            raise Refused(f"refused: it unpacks to {self.why}")

    def spent(self) -> bool:
        return self.written > self.limit


class _Bounded:
    """A reader of unpacked bytes that stops with ``Refused`` once it has given more than its budget.

    It reads with ``read1``: one step of the decompressor at a time, so that a file cut short
    raises ``EOFError`` only once everything before the cut has been given (``read`` would fill
    its buffer first, and lose the buffer with the error).
    """

    def __init__(self, source: gzip.GzipFile | bz2.BZ2File | lzma.LZMAFile | zipfile.ZipExtFile, budget: _Budget):
        self.source, self.budget = source, budget

    def read(self, size: int = -1) -> bytes:
        chunk = self.source.read1(size)
        self.budget.take(len(chunk))
        return chunk


def _passed_over(entry: zipfile.ZipInfo) -> bool:
    """Folders, and the resource forks macOS's Finder adds to a zip (``__MACOSX/``, ``._name``), are not files."""
    path = PurePosixPath(entry.filename.replace("\\", "/"))
    return entry.is_dir() or path.parts[:1] == ("__MACOSX",) or path.name.startswith("._")


def _odd_entry(entry: zipfile.ZipInfo) -> str | None:
    """Why a zip entry is not taken: a name that is a path out of the archive, a link, encryption."""
    name = entry.filename
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in parts:
        return f"{name!r} names a path outside the archive"
    if any(ord(c) < 32 for c in name):
        return f"{name!r} has control characters in its name"
    if stat.S_ISLNK(entry.external_attr >> 16):
        return f"{name!r} is a symbolic link, not a file"
    if entry.flag_bits & 0x1:
        return f"{name!r} is encrypted: unzip it with its password first"
    return None
