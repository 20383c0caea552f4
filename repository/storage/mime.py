"""MIME types from the bytes of a file, never from its name."""

from __future__ import annotations

import filetype


def sniff(head: bytes) -> str:
    """The MIME type of a file whose first bytes (a few KB) are ``head``."""
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"<?xml") or stripped.startswith(b"<"):
        return "application/xml"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not merely a character cut at the end of the sample
            return "application/octet-stream"
    return "text/plain" if head else "application/octet-stream"
