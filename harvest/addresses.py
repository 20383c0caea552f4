"""Which addresses a harvest may reach: public ones, unless the caller allows the others.

A source's base URL is typed by whoever registers it, and the harvester runs inside somebody's
network: unchecked, ``http://169.254.169.254/`` (a cloud's metadata service), a database on
loopback or a host of the office network would be fetched and its answer stored (server-side
request forgery).  So a harvest refuses loopback, private, link-local, multicast, unspecified,
reserved and other non-public addresses by default, in IPv4 and IPv6 alike, IPv4 inside IPv6
(``::ffff:127.0.0.1``, 6to4) included.  A regional network harvesting its members on private
addresses allows their networks (``Policy(networks=...)``), or every address (``allow_private``).

The address judged is the one the operating system resolved and connected to (``client.py``
checks each connection's peer before a byte is sent), so a host name, a redirect, a number
spelt ``2130706433`` or ``0x7f.1``, or a name whose DNS answer changes between a check and the
connection (DNS rebinding) cannot lead elsewhere.  ``check_url`` asks the resolver beforehand,
for an early, clear refusal (``kutubxona harvest add``) and for connections through a proxy.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from harvest.errors import AddressRefused

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Policy:
    """Which addresses a client may connect to, and what a refusal tells its reader to do.

    Public addresses always; every other address with ``allow_private``; or only those of the
    ``networks`` given (say a regional network's ``10.20.0.0/16``), which keeps loopback and the
    link-local metadata service refused while the members are harvested.
    """

    allow_private: bool = False
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    advice: str = "a client with Policy(allow_private=True) may harvest it"

    def refuse(self, host: str, address: str) -> None:
        """Raise ``AddressRefused`` when ``address`` (what ``host`` resolved to) is not allowed."""
        if self.allow_private:
            return
        why = refusal(address)
        if why is None or any(_plain(address) in network for network in self.networks):
            return
        shown = host if host.strip("[]") == address else f"{host} ({address})"
        raise AddressRefused(f"{shown} is {why}, not a public address; {self.advice}")

    def check_url(self, url: str) -> None:
        """Refuse ``url`` when its host is, or resolves to, an address not allowed; an unknown name passes.

        A name that does not resolve now is left to the connection, which fails on its own (or is
        checked then, if the name has come to resolve by that time).
        """
        if self.allow_private:
            return
        parts = urlsplit(url)
        host = parts.hostname or ""
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (ValueError, UnicodeError, OSError):  # a bad port, a name too long, one that does not resolve
            return
        for *_, sockaddr in found:
            self.refuse(host, str(sockaddr[0]))


def refusal(address: str) -> str | None:
    """What kind of non-public address ``address`` is ("a loopback address"), or None when it is public."""
    ip = _plain(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.sixtofour is not None and (why := _kind(ip.sixtofour)):
        return why  # 6to4 (2002::/16) towards a private IPv4 address
    return _kind(ip)


def _plain(address: str) -> IPAddress:
    """The address as ``ipaddress`` reads it, without its scope (fe80::1%eth0), and an IPv4 address
    carried in IPv6 as itself (::ffff:127.0.0.1 is 127.0.0.1, reached over IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _kind(ip: IPAddress) -> str | None:
    # the names of RFC 6890's special-purpose registries, as ipaddress knows them
    if ip.is_unspecified:
        return "the unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_private:
        return "a private address"
    if ip.is_reserved:
        return "a reserved address"
    if not ip.is_global:  # 100.64.0.0/10, the carrier-grade NAT space, is neither private nor global
        return "a shared (carrier-grade NAT) address"
    return None
