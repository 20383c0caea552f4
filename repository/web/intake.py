"""A request read whole before a thread serves it, and the answers the HTTP server gives itself.

``kutubxona serve``'s worker (``serving.py``) reads each request, head and body, in its event loop
and hands it to a thread only once it has all arrived: a thread that read the request itself
would wait as long as the client takes, and a few clients that send slowly (or announce a body
they never send) would hold every thread.  ``Incoming`` is that reading, without any I/O: bytes
go in as they arrive, and it says whether more are needed, the request is ready for a thread, or
the server must refuse it (a request line or header fields past their bounds, a malformed chunked
body).

What is not a well-formed request it hands over as it stands, marked to close the connection
after the answer: gunicorn's parser then finds the fault and ``serving`` answers it with
``answer`` as it answers the server's other refusals: an OAI-PMH error at ``/oai`` (OAI-PMH never
answers an HTML page), one line of plain text anywhere else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from repository.oai import OAISettings, refusal
from repository.oai.errors import BadArgument, BadVerb
from repository.oai.request import VERB_ARGUMENTS
from repository.web.numbers import whole

HEAD_FIELDS_BYTES = 64 * 1024  # all header fields together; gunicorn adds 100 fields of 8190 bytes at most
_CHUNK_LINE_BYTES = 1024  # a chunk's size line with its extensions (RFC 9112 7.1)
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")
_BARE_LF = re.compile(rb"(?<!\r)\n")  # RFC 9112 2.2: every line of a head ends with CRLF
_UNPRINTABLE = re.compile(rb"[^\x21-\x7e]")  # RFC 9112 3.2, RFC 3986 2: a request target is printable ASCII

MORE, READY, REFUSED = "more", "ready", "refused"
OAI_PATH = "/oai"


@dataclass(frozen=True)
class Limits:
    """How much of a request the server reads, and for how long."""

    line: int  # bytes of the request line
    body: int  # bytes of a request body (a larger one is handed over unread: the app answers 413)
    oai_body: int  # bytes of an OAI-PMH POST's body
    seconds: float  # the whole request, from its first byte (or from the connection's opening)


@dataclass(frozen=True)
class Refusal:
    """An answer the server gives itself instead of serving the request."""

    status: int
    reason: str
    message: str  # one line, in English, saying what was wrong


class Incoming:
    """One request's bytes as they arrive, and what is known of them."""

    def __init__(self, limits: Limits, data: bytes = b"") -> None:
        self.limits = limits
        self.data = bytearray(data)
        self.searched = 0  # bytes already searched: each arrival is searched once, not the whole again
        self.line_end = -1  # where the request line ends, once it has
        self.head_end: int | None = None  # just past the empty line that ends the head
        self.body_end: int | None = None  # just past the body, once known
        self.body_limit = limits.body
        self.chunk_at: int | None = None  # a chunked body: where the next chunk's size line starts
        self.chunk_line, self.chunk_size = -1, 0  # and where that line ends, and the size it gives, once read
        self.chunked_bytes = 0  # a chunked body: the bytes of its complete chunks
        self.continue_due = False  # the client waits for "100 Continue" before it sends the body
        self.body_unread = False  # handed over without all of its body: the connection closes after the answer
        self.refusal: Refusal | None = None

    def feed(self, chunk: bytes = b"") -> str:
        """Take more bytes; MORE (keep reading), READY (a thread may serve it) or REFUSED (see ``refusal``)."""
        self.data += chunk
        # searches start a little before the new bytes: an end of line may straddle two arrivals
        since, self.searched = max(self.searched - 3, 0), len(self.data)
        if self.head_end is None:
            verdict = self._head(since)
            if verdict != READY or self.body_unread:
                return verdict
        return self._body(since)

    def _head(self, since: int) -> str:
        data = self.data
        start = 2 if data[:2] == b"\r\n" else 0  # RFC 9112 2.2: one empty line before a request is ignored
        if self.line_end < 0:
            self.line_end = data.find(b"\r\n", max(start, since))
            if (self.line_end if self.line_end >= 0 else len(data)) - start > self.limits.line:
                return self._refuse(414, "URI Too Long", f"the request line is longer than {self.limits.line} bytes")
            if self.line_end < 0:  # a bare LF will never end it: the parser says what is wrong
                return self._hand_over() if _BARE_LF.search(data, max(start, since)) else MORE
        line_end = self.line_end
        end = data.find(b"\r\n\r\n", max(line_end, since))
        if (end if end >= 0 else len(data)) - line_end > HEAD_FIELDS_BYTES:
            return self._refuse(431, "Request Header Fields Too Large",
                                f"the header fields are longer than {HEAD_FIELDS_BYTES} bytes in all")  # fmt: skip
        if end < 0:
            return self._hand_over() if _BARE_LF.search(data, max(line_end, since)) else MORE
        self.head_end = end + 4
        if target_path(data) == OAI_PATH:
            self.body_limit = self.limits.oai_body
        return self._framing(bytes(data[line_end + 2 : end]), data[start:line_end].endswith(b" HTTP/1.1"))

    def _framing(self, fields: bytes, http11: bool) -> str:
        """Where the body ends (RFC 9112 6.3), from Content-Length or chunked coding; anything doubtful,
        the parser's to refuse."""
        lengths: list[bytes] = []
        codings: list[bytes] = []
        expect: list[bytes] = []
        for line in fields.split(b"\r\n"):
            name, _, value = line.partition(b":")
            name, value = name.strip().lower(), value.strip(b" \t")
            if name == b"content-length":
                lengths.append(value)
            elif name == b"transfer-encoding":
                codings += [c.strip(b" \t").lower() for c in value.split(b",")]
            elif name == b"expect":
                expect.append(value.lower())
        if codings:
            if lengths or codings[-1] != b"chunked" or codings.count(b"chunked") > 1:
                return self._hand_over()
            self.chunk_at = self.head_end
        elif lengths:
            # read by numbers.whole, not int(): in the event loop, a length of 5,000 digits raised past int()'s
            # limit on digits and ended the worker, and every connection it held, with one request of 5 KB
            length = whole(lengths[0].decode("latin-1")) if len(lengths) == 1 else None
            if length is None:
                return self._hand_over()
            if length > self.body_limit:
                return self._hand_over()  # the app answers 413 without reading it
            self.body_end = self.head_end + length
        else:
            self.body_end = self.head_end
        if expect and expect != [b"100-continue"]:
            return self._hand_over()  # an expectation the server cannot meet: 417
        # RFC 9110 10.1.1: a client that expects 100-continue may wait for it before sending the body
        self.continue_due = bool(expect) and http11 and self.body_end != self.head_end
        return READY

    def _body(self, since: int) -> str:
        if self.body_end is not None:
            return READY if len(self.data) >= self.body_end else MORE
        data = self.data
        while True:  # the chunks of a chunked body (RFC 9112 7.1), each once complete
            at = self.chunk_at
            if self.chunk_line < 0:
                self.chunk_line = data.find(b"\r\n", max(at, since), at + _CHUNK_LINE_BYTES)
                if self.chunk_line < 0:
                    return self._malformed() if len(data) - at >= _CHUNK_LINE_BYTES else MORE
                size = _HEX.fullmatch(bytes(data[at : self.chunk_line]).partition(b";")[0].strip(b" \t"))
                if size is None:
                    return self._malformed()
                self.chunk_size = int(size.group(), 16)
            line_end, size = self.chunk_line, self.chunk_size
            if size == 0:
                end = data.find(b"\r\n\r\n", max(line_end, since))  # the trailer section ends with an empty line
                if end < 0:
                    return self._malformed() if len(data) - line_end > HEAD_FIELDS_BYTES else MORE
                self.body_end = end + 4
                return READY
            if self.chunked_bytes + min(size, len(data) - line_end - 2) > self.body_limit:
                return self._hand_over()  # past the limit, and the app reads enough of it to say 413
            chunk_end = line_end + 2 + size + 2
            if len(data) < chunk_end:
                return MORE
            if data[chunk_end - 2 : chunk_end] != b"\r\n":
                return self._malformed()
            self.chunked_bytes += size
            if chunk_end - self.head_end > 2 * self.body_limit:
                # the limit counts the chunks' data; what is held counts their size lines too, and a line of
                # 1 KB of extensions per byte of data held a thousand times the limit (a GB per connection)
                return self._refuse(413, "Content Too Large", f"the chunked body takes more than "
                                    f"{2 * self.body_limit} bytes as sent, its size lines included")  # fmt: skip
            self.chunk_at, self.chunk_line = chunk_end, -1

    def _hand_over(self) -> str:
        self.body_unread = True
        self.continue_due = False
        return READY

    def _malformed(self) -> str:
        # refused here: read by the app, a malformed chunk raised past it (an error page, not an answer)
        return self._refuse(400, "Bad Request", "the chunked body is malformed (RFC 9112, 7.1)")

    def _refuse(self, status: int, reason: str, message: str) -> str:
        self.refusal = Refusal(status, reason, message)
        return REFUSED


def target_path(data: bytes | bytearray) -> str | None:
    """The path of a request's target, from the start of its bytes; None when it cannot be read."""
    line = bytes(data[:8192]).lstrip(b"\r\n").split(b"\r\n", 1)[0]
    parts = line.split(b" ")
    if len(parts) < 2:
        return None
    try:
        return urlsplit(parts[1].decode("latin-1")).path or None
    except ValueError:
        return None


def explain(status: int, detail: str, data: bytes | bytearray) -> str:
    """One line saying why the server refused a request: ``detail`` (the parser's words) made safe to
    show, or plainer words where the fault is a common one."""
    line = bytes(data[:8192]).lstrip(b"\r\n").split(b"\r\n", 1)[0].split(b" ")
    if status == 400 and len(line) > 1 and _UNPRINTABLE.search(line[1]):
        return "the URL holds bytes that must be percent-encoded (RFC 3986, 2.1), such as letters outside ASCII"
    if status == 431:
        return "the header fields are too large (at most 100 fields of 8190 bytes each)"
    shown = re.sub(r"[^\x20-\x7e]", "?", detail).strip()
    return (shown[:200] + "...") if len(shown) > 200 else shown or "the request could not be read"


def answer(status: int, reason: str, message: str, data: bytes | bytearray, oai: OAISettings) -> bytes:
    """The server's own answer to a request it refused, with ``Connection: close``: at ``/oai`` an
    OAI-PMH error (badVerb unless the request holds one legal verb, else badArgument) for a client's
    fault, elsewhere (or for the server's own) one line of plain text."""
    if 400 <= status < 500 and target_path(data) == OAI_PATH:
        verbs = [value for name, value in _arguments(data) if name == "verb"]
        error = BadArgument(message) if len(verbs) == 1 and verbs[0] in VERB_ARGUMENTS else BadVerb(message)
        body, kind = refusal(error, oai), b"text/xml; charset=utf-8"
    else:
        body, kind = f"{status} {reason}: {message}\n".encode(), b"text/plain; charset=utf-8"
    return (
        b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nCache-Control: no-store\r\n"
        b"X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n%s"
        % (status, reason.encode(), kind, len(body), body)
    )


def _arguments(data: bytes | bytearray) -> list[tuple[str, str]]:
    """The OAI-PMH arguments that can be read from what arrived: the query, or a POST's form body."""
    head, _, body = bytes(data).lstrip(b"\r\n").partition(b"\r\n\r\n")
    line = head.split(b"\r\n", 1)[0].split(b" ")
    if len(line) < 2:
        return []
    raw = body if line[0] == b"POST" else line[1].partition(b"?")[2].partition(b"#")[0]
    return parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True, errors="replace")
