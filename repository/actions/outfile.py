"""Where an export writes: standard output (``-``); a FIFO, a device or a descriptor such as
/dev/stdout, written through; a regular file replaced whole (written beside it under a temporary
name, renamed over it when complete), so a failed export never leaves half a file.

A symlink to a regular file stays a link: its target is replaced.  A symlink is followed only when it
belongs to the user writing or to root: an export run by root (a cron job) into a folder others may
write in would otherwise write wherever another user's link points, over /etc/shadow or into a disk's
device node (the kernel's fs.protected_symlinks guards only sticky folders, and only where it is on).
A path that cannot be written (a missing folder, no permission, a full disk, another user's link) is
one line, ``CannotWrite``.
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


def _resolved(path: Path) -> str:
    """Where ``path`` leads through its symlinks (a descriptor's /proc/self/fd/N as such), each link checked
    to belong to this user or to root: one of another user is refused (``CannotWrite``), never followed.

    The path returned is no symlink (but a descriptor's), so writing to it follows no link another could
    have placed after the check: a regular file is replaced by ``rename``, which replaces a link itself.
    """
    current = os.path.abspath(path)
    for _ in range(40):  # the kernel's own limit on links followed
        if _is_descriptor(current):
            return current
        try:
            found = os.lstat(current)
        except FileNotFoundError:
            return current
        except OSError as exc:
            raise _failed(path, exc) from None
        if not stat.S_ISLNK(found.st_mode):
            return current
        if found.st_uid not in (0, os.geteuid()):
            shown = "it" if current == os.path.abspath(path) else current
            raise CannotWrite(f"cannot write {path}: {shown} is a symbolic link of another user (uid {found.st_uid}), "
                              "which is not followed")  # fmt: skip
        current = os.path.normpath(os.path.join(os.path.dirname(current), os.readlink(current)))
    raise CannotWrite(f"cannot write {path}: too many levels of symbolic links")


def _is_descriptor(path: str) -> bool:
    """True when ``path`` names a file descriptor (/proc/self/fd/1, /dev/fd/1)."""
    return path.startswith(("/proc/", "/dev/fd/"))


@contextmanager
def output(path: Path | str) -> Iterator[BinaryIO]:
    """A binary stream to write an export to ``path``; what was written stays only if the block succeeds."""
    if str(path) == STDOUT:
        with _written("standard output"):
            yield sys.stdout.buffer
            sys.stdout.buffer.flush()
        return
    path = Path(path)
    real = _resolved(path)
    try:  # lstat: a link put at ``real`` since it was resolved is not followed for its type or mode either
        found = os.stat(real) if _is_descriptor(real) else os.lstat(real)
    except FileNotFoundError:
        found = None
    except OSError as exc:
        raise _failed(path, exc) from None
    if found is not None and stat.S_ISDIR(found.st_mode):
        raise CannotWrite(f"cannot write {path}: it is a folder")
    if found is not None and (not stat.S_ISREG(found.st_mode) or _is_descriptor(real)):
        yield from _through(path, real)
    else:
        yield from _replaced(path, Path(real), found)


@contextmanager
def _written(shown: Path | str) -> Iterator[None]:
    """Turn a failed write into one line; a closed standard output is not written to again at exit."""
    try:
        yield
    except OSError as exc:
        if exc.errno == errno.EPIPE and str(shown) == "standard output":
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python flushes it at exit
        raise _failed(shown, exc) from None


def _through(path: Path, real: str) -> Iterator[BinaryIO]:
    """A FIFO, a device or a descriptor: opened as it is (no truncation, no temporary file, no rename)."""
    # a descriptor is a link of the kernel's; anything else must not have become a link since it was checked
    flags = os.O_WRONLY | (os.O_APPEND if _is_descriptor(real) else os.O_NOFOLLOW)
    try:
        fd = os.open(real, flags)  # a FIFO waits here for its reader
    except OSError as exc:
        raise _failed(path, exc) from None
    with _written(path), os.fdopen(fd, "wb") as fh:
        yield fh


def _replaced(path: Path, real: Path, found: os.stat_result | None) -> Iterator[BinaryIO]:
    """A regular file, or none yet: written beside it under a temporary name, renamed over it when complete."""
    # ``real``: through a symlink, its target (the link stays, its target is replaced)
    if not real.parent.is_dir():
        folder = real.parent if path.is_symlink() else path.parent
        raise CannotWrite(f"cannot write {path}: the folder {folder} does not exist")
    tmp = real.with_name(f".{real.name}.{secrets.token_hex(4)}.part")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # a new file's mode, less the umask
        if found is not None:
            os.fchmod(fd, found.st_mode & 0o777)  # replacing a file keeps its permissions (never set-user-ID)
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
