"""DNS discovery of endpoints (``pkg/discovery/dns`` at v0.26.0).

An address ``dns+host:port`` stands for every A/AAAA address of ``host``;
``dnssrv+_service._proto.name`` for the targets of its SRV records, each
looked up in turn (``dnssrvnoa+`` keeps the targets' names); an explicit
port after an SRV name overrides the records' ports. Addresses without a
prefix stand for themselves.

As in Thanos, a name that is not found (NXDOMAIN, no records) resolves to
nothing, while any other failure (timeout, server failure) keeps the name's
last good addresses. Unlike Thanos, which only logs, each name left without
addresses keeps the reason, so that the stores page can show it.

A and AAAA lookups go through the system resolver (``getaddrinfo``, which
reads /etc/hosts); SRV lookups through dnspython's, which reads
/etc/resolv.conf as Thanos's default (miekgdns) resolver does.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable, Iterable

import dns.asyncresolver
import dns.exception
import dns.resolver

from thanos_rs.errors import LookupFailedError, NameNotFoundError

log = logging.getLogger(__name__)

A = "dns"
SRV = "dnssrv"
SRV_NO_A = "dnssrvnoa"
QTYPES = (A, SRV, SRV_NO_A)

#: ``getaddrinfo``'s answers that mean "no such name", not a failed lookup.
_NOT_FOUND_ERRNOS = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}


def split_qtype(addr: str) -> tuple[str, str]:
    """``(qtype, name)``: the part before the first ``+`` and the rest, or
    ``("", addr)`` for an address without one (Thanos's ``GetQTypeName``)."""
    qtype, sep, name = addr.partition("+")
    return (qtype, name) if sep else ("", addr)


def is_dynamic(addr: str) -> bool:
    """Whether the address uses discovery (Thanos's ``IsDynamicNode``)."""
    return split_qtype(addr)[0] != ""


def split_host_port(name: str) -> tuple[str, str]:
    """``host:port``, ``[v6]:port`` or a bare host (then the port is "")."""
    if name.startswith("["):
        host, sep, rest = name[1:].partition("]")
        if sep and rest.startswith(":"):
            return host, rest[1:]
        return name, ""
    host, sep, port = name.rpartition(":")
    if not sep or ":" in host:
        return name, ""
    return host, port


def join_host_port(host: str, port: str) -> str:
    """As Go's ``net.JoinHostPort``: IPv6 addresses in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def lookup_ip(host: str) -> list[str]:
    """The A/AAAA addresses of ``host``, in the resolver's order, without repeats."""
    try:
        ipaddress.ip_address(host)
        return [host]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as err:
        if err.errno in _NOT_FOUND_ERRNOS:
            raise NameNotFoundError(f"lookup {host}: no such host") from None
        raise LookupFailedError(f'lookup IP addresses "{host}": {err.strerror}') from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def lookup_srv(name: str, resolver: dns.asyncresolver.Resolver | None = None) -> list[tuple[str, int]]:
    """``(target, port)`` of each SRV record of ``name`` (targets without the
    final dot), asking ``resolver`` (by default, /etc/resolv.conf's servers)."""
    try:
        answer = await (resolver or dns.asyncresolver.get_default_resolver()).resolve(name, "SRV", search=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        raise NameNotFoundError(f"lookup {name}: no such host") from None
    except dns.exception.DNSException as err:
        raise LookupFailedError(f'lookup SRV records "{name}": {err}') from None
    return [(r.target.to_text(omit_final_dot=True), r.port) for r in answer]


IPLookup = Callable[[str], Awaitable[list[str]]]
SRVLookup = Callable[[str], Awaitable[list[tuple[str, int]]]]


class Resolver:
    """Resolves one discovery name (Thanos's ``dnsSD.Resolve``); the lookups
    can be replaced, e.g. to point SRV lookups at another server."""

    def __init__(self, ip: IPLookup = lookup_ip, srv: SRVLookup = lookup_srv) -> None:
        self._ip = ip
        self._srv = srv

    async def resolve(self, qtype: str, name: str) -> list[str]:
        """The addresses ``name`` stands for. Raises :class:`NameNotFoundError` or
        :class:`LookupFailedError` (or ``ValueError`` for a malformed address)."""
        host, port = split_host_port(name)
        if qtype == A:
            if not port:
                raise ValueError(f"missing port in address given for dns lookup: {name}")
            return [join_host_port(ip, port) for ip in await self._ip(host)]
        if qtype not in (SRV, SRV_NO_A):
            raise ValueError(f'invalid lookup scheme "{qtype}"')
        out: list[str] = []
        for target, srv_port in await self._srv(host):
            target_port = port or str(srv_port)
            if qtype == SRV_NO_A:
                out.append(join_host_port(target, target_port))
                continue
            try:
                ips = await self._ip(target)
            except NameNotFoundError as err:
                log.error("failed to lookup IP addresses srv=%s a=%s err=%s", host, target, err)
                continue
            out += [join_host_port(ip, target_port) for ip in ips]
        return out


class Provider:
    """The addresses of a list of discovery names, re-resolved on each
    :meth:`resolve` (Thanos's ``dns.Provider``)."""

    def __init__(self, resolver: Resolver | None = None, timeout: float = 30.0) -> None:
        self._resolver = resolver or Resolver()
        self._timeout = timeout
        self._resolved: dict[str, list[str]] = {}
        #: Why a name has no addresses, for each such name.
        self.unresolved: dict[str, str] = {}

    async def resolve(self, addrs: Iterable[str]) -> None:
        """Resolves every address concurrently; names that are not found
        resolve to nothing, and failed lookups keep the last good answer."""
        names = list(dict.fromkeys(addrs))
        results = await asyncio.gather(*(self._one(a) for a in names))
        self._resolved = {a: r for a, (r, _) in zip(names, results)}
        self.unresolved = {a: err for a, (r, err) in zip(names, results) if not r and err}

    async def _one(self, addr: str) -> tuple[list[str], str | None]:
        qtype, name = split_qtype(addr)
        if not qtype:
            return [addr], None
        try:
            found = await asyncio.wait_for(self._resolver.resolve(qtype, name), self._timeout)
        except NameNotFoundError as err:
            log.error("dns resolution found nothing addr=%s err=%s", addr, err)
            return [], str(err)
        except (LookupFailedError, ValueError, asyncio.TimeoutError) as err:
            reason = str(err) or f"lookup {name}: timed out"
            log.error("dns resolution failed addr=%s err=%s", addr, reason)
            return self._resolved.get(addr, []), reason
        if not found:
            log.warning("IP address lookup yielded no results. No host found or no addresses found addr=%s", addr)
            return [], f"lookup {name}: no addresses found"
        return found, None

    def addresses(self) -> list[str]:
        """The latest addresses of all names, without repeats."""
        return list(dict.fromkeys(a for addrs in self._resolved.values() for a in addrs))
