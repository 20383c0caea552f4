"""Where an export writes: standard output (``-``); a FIFO, a device or a descriptor such as
/dev/stdout, written through; a regular file replaced whole (written beside it under a temporary
name, renamed over it when complete), so a failed export never leaves half a file.

A symlink to a regular file stays a link: its target is replaced.  A path that cannot be written
(a missing folder, no permission, a full disk) is one line, ``CannotWrite``.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from repository.errors import KutubxonaError

STDOUT = "-"


class CannotWrite(KutubxonaError):
    """The output of an export cannot be written; the message says which path and why."""


def name_of(path: Path | str) -> str:
    """How messages name an output."""
    return "standard output" if str(path) == STDOUT else str(path)


def is_stdout(path: Path | str) -> bool:
    """True when ``path`` is this process's standard output (``-``, /dev/stdout, /proc/self/fd/1)."""
    if str(path) == STDOUT:
        return True
    try:
        return os.path.samestat(os.stat(path), os.fstat(sys.stdout.fileno()))
    except (OSError, ValueError):  # no such path, or a standard output that is no file (tests capture it)
        return False


def _failed(path: Path | str, exc: OSError) -> CannotWrite:
    return CannotWrite(f"cannot write {name_of(path)}: {exc.strerror or exc}")


def _through_descriptor(path: Path) -> bool:
    """True when ``path`` is, or links to, a file descriptor (/dev/stdout -> /proc/self/fd/1)."""
    current = os.path.abspath(path)
    for _ in range(40):  # the kernel's own limit on links followed
        if current.startswith(("/proc/", "/dev/fd/")):
            return True
        try:
            target = os.readlink(current)
        except OSError:
            return False
        current = os.path.normpath(os.path.join(os.path.dirname(current), target))
    return False


@contextmanager
def output(path: Path | str) -> Iterator[BinaryIO]:
    """A binary stream to write an export to ``path``; what was written stays only if the block succeeds."""
    if str(path) == STDOUT:
        with _written("standard output"):
            yield sys.stdout.buffer
            sys.stdout.buffer.flush()
        return
    path = Path(path)
    try:
        found = os.stat(path)
    except FileNotFoundError:
        found = None
    except OSError as exc:
        raise _failed(path, exc) from None
    if found is not None and stat.S_ISDIR(found.st_mode):
        raise CannotWrite(f"cannot write {path}: it is a folder")
    if found is not None and (not stat.S_ISREG(found.st_mode) or _through_descriptor(path)):
        yield from _through(path)
    else:
        yield from _replaced(path, found)


@contextmanager
def _written(shown: Path | str) -> Iterator[None]:
    """Turn a failed write into one line; a closed standard output is not written to again at exit."""
    try:
        yield
    except OSError as exc:
        if exc.errno == errno.EPIPE and str(shown) == "standard output":
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python flushes it at exit
        raise _failed(shown, exc) from None


def _through(path: Path) -> Iterator[BinaryIO]:
    """A FIFO, a device or a descriptor: opened as it is (no truncation, no temporary file, no rename)."""
    flags = os.O_WRONLY | (os.O_APPEND if _through_descriptor(path) else 0)
    try:
        fd = os.open(path, flags)  # a FIFO waits here for its reader
    except OSError as exc:
        raise _failed(path, exc) from None
    with _written(path), os.fdopen(fd, "wb") as fh:
        yield fh


def _replaced(path: Path, found: os.stat_result | None) -> Iterator[BinaryIO]:
    """A regular file, or none yet: written beside it under a temporary name, renamed over it when complete."""
    real = Path(os.path.realpath(path))  # through a symlink: the link stays, its target is replaced
    if not real.parent.is_dir():
        folder = real.parent if path.is_symlink() else path.parent
        raise CannotWrite(f"cannot write {path}: the folder {folder} does not exist")
    tmp = real.with_name(f".{real.name}.{secrets.token_hex(4)}.part")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # a new file's mode, less the umask
        if found is not None:
            os.fchmod(fd, stat.S_IMODE(found.st_mode))  # replacing a file keeps its mode
    except OSError as exc:
        raise _failed(path, exc) from None
    try:
        with _written(path):
            with os.fdopen(fd, "wb") as fh:
                yield fh
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, real)
    finally:
        tmp.unlink(missing_ok=True)
