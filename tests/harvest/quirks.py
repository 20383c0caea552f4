"""A small OAI-PMH server for tests that serves pages the tests write, with every real-world quirk."""

from __future__ import annotations

import gzip
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

OAI_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>{date}</responseDate>'
    '<request verb="{verb}">http://quirks/oai</request>'
)
DC = (
    '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{title}</dc:title></oai_dc:dc>'
)


def record(identifier: str, title: str = "T", datestamp: str = "2024-01-01", deleted: bool = False) -> str:
    """One ListRecords record."""
    status = ' status="deleted"' if deleted else ""
    header = f"<header{status}><identifier>{identifier}</identifier><datestamp>{datestamp}</datestamp></header>"
    if deleted:
        return f"<record>{header}</record>"
    return f"<record>{header}<metadata>{DC.format(title=title)}</metadata></record>"


def list_records(records: list[str], token: str | None = None, date: str = "2024-06-01T00:00:00Z") -> bytes:
    """A ListRecords page."""
    tail = "" if token is None else f"<resumptionToken>{token}</resumptionToken>"
    body = OAI_HEAD.format(date=date, verb="ListRecords") + "<ListRecords>" + "".join(records) + tail
    return (body + "</ListRecords></OAI-PMH>").encode()


def error(code: str, verb: str = "ListRecords") -> bytes:
    """An OAI error page."""
    return (
        OAI_HEAD.format(date="2024-06-01T00:00:00Z", verb=verb) + f'<error code="{code}">x</error></OAI-PMH>'
    ).encode()


def identify(granularity: str = "YYYY-MM-DDThh:mm:ssZ", date: str = "2024-06-01T00:00:00Z") -> bytes:
    """An Identify page."""
    return (
        OAI_HEAD.format(date=date, verb="Identify")
        + "<Identify><repositoryName>Q</repositoryName><baseURL>http://quirks/oai</baseURL>"
        "<protocolVersion>2.0</protocolVersion><adminEmail>a@b.uz</adminEmail>"
        f"<earliestDatestamp>2000-01-01</earliestDatestamp><deletedRecord>persistent</deletedRecord>"
        f"<granularity>{granularity}</granularity></Identify></OAI-PMH>"
    ).encode()


@dataclass
class Reply:
    """What the server sends for one request: a status, headers, a body, or a connection cut short."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    cut_after: int | None = None  # close the connection after this many body bytes
    drip: float = 0.0  # seconds between the body's bytes: a server that never quite stops

    @classmethod
    def gzip_undeclared(cls, body: bytes) -> Reply:
        return cls(gzip.compress(body), headers={"Content-Type": "application/xml"})


Script = Callable[[dict[str, str]], Reply]


class QuirkServer:
    """Answers each request with what ``script`` says, over a raw socket (so it can misbehave)."""

    def __init__(self, script: Script, host: str = "127.0.0.1") -> None:
        self.script = script
        self.requests: list[dict[str, str]] = []
        self.connections = 0  # accepted, whether a request came or not
        self.sock = socket.socket()
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://{host}:{self.port}/oai"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.stopping = False

    def _serve(self) -> None:
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                self._answer(conn)

    def _answer(self, conn: socket.socket) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        line = head.split(b"\r\n")[0].decode()
        method, target = line.split()[0], line.split()[1]
        headers = {k.strip().lower(): v.strip() for k, v in (h.split(b":", 1) for h in head.split(b"\r\n")[1:])}
        length = int(headers.get(b"content-length", b"0"))
        while len(rest) < length:
            rest += conn.recv(65536)
        query = rest.decode() if method == "POST" else target.partition("?")[2]
        args = dict(parse_qsl(query, keep_blank_values=True))
        self.requests.append(args)
        reply = self.script(args)
        hdrs = {"Content-Type": "text/xml; charset=utf-8", "Connection": "close", **reply.headers}
        hdrs["Content-Length"] = str(len(reply.body))
        out = f"HTTP/1.1 {reply.status} X\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n"
        body = reply.body if reply.cut_after is None else reply.body[: reply.cut_after]
        if not reply.drip:
            conn.sendall(out.encode() + body)
            return
        conn.sendall(out.encode())
        for i in range(len(body)):
            if self.stopping:
                return
            try:
                conn.sendall(body[i : i + 1])
            except OSError:  # the client gave up
                return
            time.sleep(reply.drip)

    @contextmanager
    def running(self) -> Iterator[QuirkServer]:
        self.thread.start()
        try:
            yield self
        finally:
            self.stopping = True
            self.sock.close()
