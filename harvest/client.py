"""The OAI-PMH client: requests with retries, list iterators that follow resumption tokens."""

from __future__ import annotations

import logging
import random
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import NamedTuple

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.utils import select_proxy
from urllib3.util.connection import allowed_gai_family

from harvest import errors
from harvest.addresses import Policy
from harvest.pages import MAX_BODY, Page, Record, looks_like_oai, parse_page, unwrap

log = logging.getLogger("kutubxona.harvest")
_ITEM = {"ListRecords": "records", "ListIdentifiers": "records", "ListSets": "sets"}


@dataclass(frozen=True)
class RetryPolicy:
    """How patiently to ask again: 503 honours Retry-After (capped); other 5xx and dropped
    connections back off exponentially; a bounded number of times either way."""

    max_retries: int = 5
    backoff: float = 1.0  # seconds before the first retry; doubled each time
    backoff_max: float = 60.0
    retry_after_cap: float = 300.0  # never wait longer than this for one Retry-After


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a Retry-After header asks for: delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class _Peer:
    """A connection that resolves its host itself, refuses it if any address it has is not allowed,
    and then connects to those very addresses: the address judged is the address connected to, so
    a name whose DNS answer changes in between (DNS rebinding) gains nothing, and a refused host is
    never connected to (its open ports cannot be told from its closed ones)."""

    policy: Policy

    def _new_conn(self):  # noqa: ANN202 - urllib3's own hook: where the socket is made
        name, port = self._dns_host, self.port  # type: ignore[attr-defined]
        try:
            found = socket.getaddrinfo(name.strip("[]"), port, allowed_gai_family(), socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise urllib3.exceptions.NameResolutionError(name, self, exc) from exc  # type: ignore[arg-type]
        addresses = list(dict.fromkeys(str(sockaddr[0]) for *_, sockaddr in found))
        for address in addresses:
            self.policy.refuse(name, address)
        failed: Exception | None = None
        for address in addresses:  # as urllib3 would: the first address that answers
            self._dns_host = address  # the TLS name and the Host header stay the URL's
            try:
                return super()._new_conn()  # type: ignore[misc]
            except (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError) as exc:
                failed = exc
            finally:
                self._dns_host = name
        assert failed is not None
        raise failed


def _checked_pool(pool: type, connection: type, policy: Policy) -> type:
    """urllib3's ``pool`` class, whose ``connection`` class checks each peer with ``policy``."""
    checked = type(connection.__name__, (_Peer, connection), {"policy": policy})
    return type(pool.__name__, (pool,), {"ConnectionCls": checked})


class _Guarded(HTTPAdapter):
    """Connections whose peer the policy accepts, checked on every connection a request opens: the
    source's own, each redirect's, whatever the name resolved to at that moment (no DNS rebinding)."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._pools = {
            "http": _checked_pool(urllib3.HTTPConnectionPool, urllib3.connection.HTTPConnection, policy),
            "https": _checked_pool(urllib3.HTTPSConnectionPool, urllib3.connection.HTTPSConnection, policy),
        }
        super().__init__()

    def init_poolmanager(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003 - HTTPAdapter's signature
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._pools

    def send(self, request: requests.PreparedRequest, **kwargs) -> requests.Response:  # noqa: ANN003
        if select_proxy(request.url, kwargs.get("proxies") or {}):
            # through a proxy the connection is to the proxy, which the operator chose: the source's
            # name is checked here as this machine resolves it (the proxy may resolve it otherwise)
            self.policy.check_url(request.url or "")
        return super().send(request, **kwargs)


class Answer(NamedTuple):
    """One HTTP answer, its body read whole (within the client's bounds)."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class Client:
    """One OAI-PMH repository, as a harvester sees it."""

    def __init__(
        self,
        base_url: str,
        *,
        method: str = "GET",
        retry: RetryPolicy | None = None,
        timeout: float = 60.0,
        response_seconds: float = 600.0,
        max_bytes: int = MAX_BODY,
        max_pages: int = 1_000_000,
        sleep: Callable[[float], None] = time.sleep,
        user_agent: str = "Kutubxona-harvester/0.1",
        addresses: Policy | None = None,
    ) -> None:
        if method not in ("GET", "POST"):
            raise ValueError("method must be GET or POST")
        self.base_url = base_url
        self.method = method
        self.retry = retry or RetryPolicy()
        self.timeout = timeout  # seconds for connecting and for each read
        self.response_seconds = response_seconds  # seconds for a whole response
        self.max_bytes = max_bytes  # bytes of a response, decompressed
        self.max_pages = max_pages
        self.sleep = sleep
        self.addresses = addresses or Policy()  # public addresses only, unless the caller allows others
        self.http = requests.Session()
        if not self.addresses.allow_private:
            guarded = _Guarded(self.addresses)
            self.http.mount("http://", guarded)
            self.http.mount("https://", guarded)
        self.http.headers.update({"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"})

    def close(self) -> None:
        """Close the HTTP connections."""
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------------------- one request

    def request(self, **args: str) -> Page:
        """One OAI-PMH request, retried as the policy says; raise the ``OAIError`` the source reports."""
        attempt = 0
        while True:
            try:
                response = self._send(args)
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
                wait = self._backoff(attempt, f"{type(exc).__name__}: {exc}")
            else:
                status = response.status
                if status == 503:
                    asked = retry_after_seconds(response.headers.get("Retry-After"))
                    reason = f"HTTP 503 (Retry-After {response.headers.get('Retry-After')!r})"
                    capped = None if asked is None else min(asked, self.retry.retry_after_cap)  # "0" means now
                    wait = self._backoff(attempt, reason, capped)
                elif status >= 500:
                    wait = self._backoff(attempt, f"HTTP {status}")  # Retry-After counts on 503 only
                else:
                    return self._page(response)
            attempt += 1
            self.sleep(wait)

    def _send(self, args: dict[str, str]) -> Answer:
        """Send one request and read its body, bounded in size (decompressed) and in total time."""
        if self.method == "POST":
            response = self.http.post(self.base_url, data=args, timeout=self.timeout, stream=True)
        else:
            response = self.http.get(self.base_url, params=args, timeout=self.timeout, stream=True)
        # the timeout bounds each read; a server that drips one byte a minute must still end
        deadline = time.monotonic() + self.response_seconds
        body = bytearray()
        try:
            # read1 returns what has arrived (decompressed), so the deadline is checked as bytes come
            while chunk := response.raw.read1(1 << 16, decode_content=True):
                body += chunk
                if len(body) > self.max_bytes:
                    raise errors.TooLarge(
                        f"{self.base_url}: the response is over {self.max_bytes // (1024 * 1024)} MB once decompressed"
                    )
                if time.monotonic() > deadline:
                    raise requests.Timeout(f"the response took over {self.response_seconds:.0f} s")
        except urllib3.exceptions.HTTPError as exc:  # what requests' own reading would have wrapped
            raise requests.exceptions.ChunkedEncodingError(str(exc)) from exc
        finally:
            response.close()
        return Answer(response.status_code, response.headers, bytes(body))

    def _backoff(self, attempt: int, reason: str, wait: float | None = None) -> float:
        if attempt >= self.retry.max_retries:
            raise errors.TransportError(f"{self.base_url}: {reason}; gave up after {attempt + 1} attempts")
        if wait is None:
            wait = min(self.retry.backoff * 2**attempt, self.retry.backoff_max) * (0.75 + random.random() / 2)
        log.info("%s: %s; retrying in %.1f s", self.base_url, reason, wait)
        return wait

    def _page(self, response: Answer) -> Page:
        """The page in a response of any status: OAI errors are read from the body (Zenodo sends 422)."""
        try:
            body = unwrap(response.body, self.max_bytes)
        except ValueError as exc:
            raise errors.TooLarge(f"{self.base_url}: {exc}") from None
        if not looks_like_oai(body):
            raise errors.NotOAI(f"{self.base_url}: HTTP {response.status}, and the body is not OAI-PMH")
        try:
            page = parse_page(body)
        except ValueError as exc:
            raise errors.NotOAI(f"{self.base_url}: {exc}") from None
        if page.error is not None:
            raise errors.OAIError.for_code(*page.error)
        if response.status >= 400:
            raise errors.TransportError(f"{self.base_url}: HTTP {response.status}")
        return page

    # ---------------------------------------------------------------------------- verbs

    def identify(self) -> dict[str, str | list[str]]:
        """The source's Identify: its fields by name (adminEmail and compression as lists), and responseDate."""
        page = self.request(verb="Identify")
        assert page.root is not None
        found = page.root.xpath("//*[local-name()='Identify']/*")
        out: dict[str, str | list[str]] = {"adminEmail": [], "compression": [], "responseDate": page.response_date}
        for el in found:
            name = el.xpath("local-name()")
            if name in ("adminEmail", "compression"):
                out[name].append((el.text or "").strip())  # type: ignore[union-attr]
            elif name != "description":
                out[name] = (el.text or "").strip()
        return out

    def pages(self, verb: str, token: str | None = None, **args: str) -> Iterator[Page]:
        """Every page of a list (from ``token`` when resuming); ``noRecordsMatch`` is an empty list."""
        seen: set[str] = set()
        request = {"verb": verb, "resumptionToken": token} if token else {"verb": verb, **args}
        for _ in range(self.max_pages):
            try:
                page = self.request(**request)
            except errors.NoRecordsMatch:
                return
            yield page
            if not page.token:
                return
            if page.token in seen:
                raise errors.TokenLoop(f"{self.base_url}: the resumption token {page.token[:60]!r} came back")
            seen.add(page.token)
            # OAI-PMH 3.5: the token is exclusive, and goes back exactly as it came
            request = {"verb": verb, "resumptionToken": page.token}
        raise errors.TokenLoop(f"{self.base_url}: more than {self.max_pages} pages; stopping")

    def list_records(self, **args: str) -> Iterator[Record]:
        """Every record of ListRecords (deleted ones included, as headers)."""
        for page in self.pages("ListRecords", **args):
            yield from page.records

    def list_identifiers(self, **args: str) -> Iterator[Record]:
        """Every header of ListIdentifiers."""
        for page in self.pages("ListIdentifiers", **args):
            yield from page.records

    def list_sets(self) -> Iterator[tuple[str, str]]:
        """Every (setSpec, setName) of ListSets."""
        for page in self.pages("ListSets"):
            yield from page.sets

    def get_record(self, identifier: str, metadata_prefix: str) -> Record:
        """One record."""
        page = self.request(verb="GetRecord", identifier=identifier, metadataPrefix=metadata_prefix)
        if not page.records:
            reason = page.set_aside[0].reason if page.set_aside else "no record in the response"
            raise errors.HarvestError(f"{identifier}: {reason}")
        return page.records[0]
