"""A harvest reaches public addresses only, unless allowed: no loopback, private, link-local or metadata
service through a source's URL, a host name, an odd spelling of a number, a redirect or a proxy."""

from __future__ import annotations

import ipaddress
import json

import pytest

from harvest import Client, RetryPolicy, errors
from harvest.addresses import Policy, refusal
from tests.conftest import Cli
from tests.harvest.quirks import QuirkServer, Reply, identify, list_records, record

FAST = RetryPolicy(max_retries=1, backoff=0.01, backoff_max=0.01)


def oai(args: dict[str, str]) -> Reply:
    """A source that answers every request as a small repository would."""
    if args.get("verb") == "Identify":
        return Reply(identify())
    return Reply(list_records([record("oai:q:1")]))


def identify_with(url: str, policy: Policy | None = None) -> None:
    Client(url, retry=FAST, sleep=lambda _: None, addresses=policy).identify()


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "a loopback address"),
        ("127.8.9.10", "a loopback address"),
        ("::1", "a loopback address"),
        ("::ffff:127.0.0.1", "a loopback address"),  # IPv4 in IPv6 is judged as itself
        ("169.254.169.254", "a link-local address"),  # the metadata service of the clouds
        ("fe80::1%lo", "a link-local address"),
        ("10.1.2.3", "a private address"),
        ("172.16.0.1", "a private address"),
        ("192.168.1.1", "a private address"),
        ("fd12:3456::1", "a private address"),
        ("::ffff:10.0.0.1", "a private address"),
        ("2002:a00:1::", "a private address"),  # 6to4 towards 10.0.0.1
        ("224.0.0.1", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("0.0.0.0", "the unspecified address"),  # on Linux a connection to it reaches loopback
        ("::", "the unspecified address"),
        ("240.0.0.1", "a private address"),
        ("100.64.0.1", "a shared (carrier-grade NAT) address"),
        ("93.184.215.14", None),
        ("2606:4700::1111", None),
        ("::ffff:93.184.215.14", None),
    ],
)
def test_every_kind_of_non_public_address_is_named(address: str, kind: str | None):
    assert refusal(address) == kind


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "2130706433", "0x7f.1", "0177.0.0.1", "0.0.0.0",
                                  "[::ffff:127.0.0.1]"])  # fmt: skip
def test_loopback_is_refused_by_default_however_it_is_written_and_never_connected_to(host: str):
    with QuirkServer(oai).running() as server:
        with pytest.raises(errors.AddressRefused, match=r"loopback address|unspecified address") as refused:
            identify_with(f"http://{host}:{server.port}/oai")
        identify_with(server.url, Policy(allow_private=True))  # the server itself answers
    assert server.connections == 1  # the allowed request only: the refused one never connected
    assert "not a public address" in str(refused.value) and "allow_private=True" in str(refused.value)


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[fe80::a9fe:a9fe]/", "link-local"),
        ("http://10.0.0.1/oai", "private"),
        ("https://192.168.0.10/oai", "private"),
        ("http://[fd00::1]:8080/oai", "private"),
        ("http://224.0.0.251/oai", "multicast"),
    ],
)
def test_link_local_private_and_multicast_are_refused_by_default(url: str, kind: str):
    with pytest.raises(errors.AddressRefused, match=f"is a {kind} address"):
        identify_with(url)


def test_a_redirect_from_an_allowed_source_to_a_refused_address_is_refused():
    with QuirkServer(oai, host="127.0.0.2").running() as inside:  # loopback too, but not in the allowed network

        def source(args: dict[str, str]) -> Reply:
            if args.get("to") == "inside":
                return Reply(b"", 302, {"Location": inside.url + "?verb=Identify"})
            if args.get("to") == "metadata":
                return Reply(b"", 307, {"Location": "http://169.254.169.254/latest/meta-data/"})
            if args.get("to") == "here":
                return Reply(b"", 302, {"Location": "/oai?verb=Identify"})
            return oai(args)

        allowed = Policy(networks=(ipaddress.ip_network("127.0.0.1/32"),))
        with QuirkServer(source).running() as outside:
            identify_with(outside.url + "?to=here", allowed)  # redirects are followed where allowed
            with pytest.raises(errors.AddressRefused, match=r"127\.0\.0\.2 is a loopback address"):
                identify_with(outside.url + "?to=inside", allowed)
            with pytest.raises(errors.AddressRefused, match=r"169\.254\.169\.254 is a link-local address"):
                identify_with(outside.url + "?to=metadata", allowed)
            identify_with(inside.url, Policy(allow_private=True))
    assert inside.connections == 1  # only the request allowed everything; neither redirect reached it


def test_through_a_proxy_the_source_name_is_checked_before_anything_is_sent(monkeypatch):
    with QuirkServer(oai).running() as proxy:  # a proxy on loopback that answers for any source
        for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
        with pytest.raises(errors.AddressRefused, match="localhost"):
            identify_with("http://localhost:8080/oai")
        assert proxy.connections == 0
        identify_with("http://oai.kutubxona.invalid/oai")  # a name this machine cannot resolve: the proxy's to find
    assert proxy.connections == 1


def test_harvest_add_refuses_a_non_public_source_in_one_line(cli: Cli):
    for url, kind in [("http://127.0.0.1:8080/oai", "a loopback address"),
                      ("http://localhost/oai", "localhost (127.0.0.1) is a loopback address"),
                      ("http://2130706433/oai", "2130706433 (127.0.0.1) is a loopback address"),
                      ("http://169.254.169.254/latest/meta-data/", "a link-local address"),
                      ("http://192.168.1.20/oai", "a private address")]:  # fmt: skip
        out = cli("harvest", "add", "src", url, code=2).output
        assert out.count("\n") == 1 and "Traceback" not in out, out
        assert kind in out and "KUTUBXONA_HARVEST_ALLOW_PRIVATE" in out, out
    assert json.loads(cli("harvest", "status", "--json").stdout) == []
    cli("harvest", "add", "src", "http://oai.kutubxona.invalid/oai")  # a name that does not resolve: its runs decide


def test_harvest_run_refuses_a_source_whose_address_is_no_longer_allowed(cli: Cli, make_app):  # noqa: ANN001
    with QuirkServer(oai).running() as server:
        Cli(make_app(HARVEST_ALLOW_PRIVATE="yes"))("harvest", "add", "src", server.url)  # added while allowed
        out = cli("harvest", "run", "src", code=2).output  # this node's setting: public addresses only
        assert "AddressRefused: 127.0.0.1 is a loopback address" in out and "KUTUBXONA_HARVEST_ALLOW_PRIVATE" in out
        assert server.connections == 0
        (status,) = json.loads(cli("harvest", "status", "--json").stdout)
        assert "AddressRefused" in status["message"]
        its_network = Cli(make_app(HARVEST_ALLOW_PRIVATE="127.0.0.0/30"))
        report = json.loads(its_network("harvest", "run", "src", "--json").stdout)
        assert report["records"] == 1 and "error" not in report  # its network allowed: harvested
