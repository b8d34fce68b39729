"""DNS discovery: ``dns+`` names through the system resolver (localhost is in
/etc/hosts), ``dnssrv+``/``dnssrvnoa+`` against a small real DNS server, and
the provider's rules: not found is empty, a failed lookup keeps the last
good answer."""

from __future__ import annotations

import asyncio
import functools

import dns.asyncresolver
import dns.message
import dns.rcode
import dns.rrset
import pytest

from thanos_rs.errors import LookupFailedError, NameNotFoundError
from thanos_rs.query.dns_sd import (
    Provider,
    Resolver,
    is_dynamic,
    join_host_port,
    lookup_srv,
    split_host_port,
    split_qtype,
)


def test_addresses_split_as_thanos_splits_them():
    assert split_qtype("dns+host:1") == ("dns", "host:1")
    assert split_qtype("dnssrv+_grpc._tcp.x") == ("dnssrv", "_grpc._tcp.x")
    assert split_qtype("127.0.0.1:1") == ("", "127.0.0.1:1")
    assert is_dynamic("dnssrvnoa+x") and not is_dynamic("x:1")
    assert split_host_port("host:10901") == ("host", "10901")
    assert split_host_port("[::1]:10901") == ("::1", "10901")
    assert split_host_port("_grpc._tcp.x") == ("_grpc._tcp.x", "")
    assert join_host_port("::1", "9") == "[::1]:9"
    assert join_host_port("10.0.0.1", "9") == "10.0.0.1:9"


def test_dns_names_resolve_through_the_system_resolver():
    r = Resolver()
    assert asyncio.run(r.resolve("dns", "localhost:10901")) == ["127.0.0.1:10901"]
    assert asyncio.run(r.resolve("dns", "[::1]:10901")) == ["[::1]:10901"]
    with pytest.raises(NameNotFoundError, match="no such host"):
        asyncio.run(r.resolve("dns", "nonexistent.invalid:10901"))
    with pytest.raises(ValueError, match="missing port in address given for dns lookup: localhost"):
        asyncio.run(r.resolve("dns", "localhost"))
    with pytest.raises(ValueError, match='invalid lookup scheme "dnsx"'):
        asyncio.run(r.resolve("dnsx", "localhost:1"))


class _DNSServer(asyncio.DatagramProtocol):
    """Answers SRV questions from ``records`` (name -> SRV texts), NXDOMAIN otherwise."""

    def __init__(self, records: dict[str, list[str]]) -> None:
        self.records = records

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        query = dns.message.from_wire(data)
        reply = dns.message.make_response(query)
        name = query.question[0].name
        if name.to_text() in self.records:
            reply.answer.append(dns.rrset.from_text(name, 60, "IN", "SRV", *self.records[name.to_text()]))
        else:
            reply.set_rcode(dns.rcode.NXDOMAIN)
        self.transport.sendto(reply.to_wire(), addr)


async def _resolve_srv(records: dict[str, list[str]], qtype: str, name: str) -> list[str]:
    transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
        lambda: _DNSServer(records), local_addr=("127.0.0.1", 0))
    try:
        server = dns.asyncresolver.Resolver(configure=False)
        server.nameservers = ["127.0.0.1"]
        server.port = transport.get_extra_info("sockname")[1]
        return await Resolver(srv=functools.partial(lookup_srv, resolver=server)).resolve(qtype, name)
    finally:
        transport.close()


RECORDS = {"_grpc._tcp.stores.test.": ["0 0 10901 localhost.", "0 0 10902 nonexistent.invalid."]}


def test_srv_names_resolve_to_their_targets_addresses():
    # A target whose name is not found is skipped, as in Thanos.
    assert asyncio.run(_resolve_srv(RECORDS, "dnssrv", "_grpc._tcp.stores.test")) == ["127.0.0.1:10901"]
    # An explicit port wins over the records'.
    assert asyncio.run(_resolve_srv(RECORDS, "dnssrv", "_grpc._tcp.stores.test:9")) == ["127.0.0.1:9"]
    # Records come in any order (Thanos's Go resolver shuffles by weight).
    assert sorted(asyncio.run(_resolve_srv(RECORDS, "dnssrvnoa", "_grpc._tcp.stores.test"))) == [
        "localhost:10901", "nonexistent.invalid:10902"]
    with pytest.raises(NameNotFoundError):
        asyncio.run(_resolve_srv(RECORDS, "dnssrv", "_grpc._tcp.other.test"))


def test_provider_keeps_the_last_good_answer_when_a_lookup_fails():
    answers: dict[str, list[str] | Exception] = {"a.test": ["10.0.0.1"]}

    async def lookup(host: str) -> list[str]:  # stands in for the resolver between lookups
        answer = answers[host]
        if isinstance(answer, Exception):
            raise answer
        return answer

    p = Provider(Resolver(ip=lookup))
    names = ["dns+a.test:1", "10.0.0.9:1", "dns+b.test:1"]
    answers["b.test"] = NameNotFoundError("lookup b.test: no such host")
    asyncio.run(p.resolve(names))
    assert p.addresses() == ["10.0.0.1:1", "10.0.0.9:1"]
    assert p.unresolved == {"dns+b.test:1": "lookup b.test: no such host"}

    answers["a.test"] = LookupFailedError('lookup IP addresses "a.test": timed out')
    asyncio.run(p.resolve(names))
    assert p.addresses() == ["10.0.0.1:1", "10.0.0.9:1"], "a failed lookup keeps what was found before"
    assert "dns+a.test:1" not in p.unresolved

    answers["a.test"] = NameNotFoundError("lookup a.test: no such host")
    answers["b.test"] = ["10.0.0.2", "fd00::2"]
    asyncio.run(p.resolve(names))
    assert p.addresses() == ["10.0.0.9:1", "10.0.0.2:1", "[fd00::2]:1"]
    assert p.unresolved == {"dns+a.test:1": "lookup a.test: no such host"}
