"""Where a probe may be redirected: the pure policy behind probe.py's redirects.

The monitor runs inside AWS, next to endpoints that hand out credentials to whoever asks from inside:
EC2's instance metadata (169.254.169.254, fd00:ec2::254), the ECS/Lambda credentials endpoint
(169.254.170.2) and the Lambda Runtime API (127.0.0.1:9001). A health endpoint that redirects there
(compromised, misconfigured, or a DNS name rebound to one of them) must not make the monitor fetch it.
So a redirect is followed only
- to the check's own host, or to a host listed in the check's `redirect_hosts`, and
- when none of the addresses the target resolves to is link-local (169.254.0.0/16, fe80::/10), loopback
  (127.0.0.0/8, ::1), a metadata address (fd00:ec2::254) or unspecified (0.0.0.0/8, ::), unless the
  check's own URL resolved to that kind of address (the local demo and the tests run on 127.0.0.1).
The probe connects to the very addresses checked here, never resolving the name a second time.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

LOOPBACK = "loopback address"
LINK_LOCAL = "link-local address"
METADATA = "metadata address"
UNSPECIFIED = "unspecified address"
# EC2's instance metadata service over IPv6 (Nitro); its IPv4 address is link-local already.
_METADATA_V6 = ipaddress.ip_network("fd00:ec2::254/128")
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")  # Linux connects 0.0.0.0 to the local host
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # an IPv4 address embedded for a NAT64 gateway


def address_kind(address: str) -> str | None:
    """The kind of special address, or None for an ordinary one. IPv4 inside IPv6 counts as IPv4."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone (fe80::1%eth0)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip in _NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.is_unspecified or ip in _THIS_NETWORK:
        return UNSPECIFIED
    if ip.is_loopback:
        return LOOPBACK
    if ip.is_link_local:
        return LINK_LOCAL
    if ip in _METADATA_V6:
        return METADATA
    return None


def is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def host_refusal(host: str, *, origin_host: str, allowed_hosts: frozenset[str]) -> str | None:
    """Why a redirect to `host` is refused by name, or None. Names compare case-insensitively."""
    if host.lower() == origin_host.lower() or host.lower() in allowed_hosts:
        return None
    return f"redirect to {host} refused: not the check's host (list it in redirect_hosts to allow it)"


def address_refusal(host: str, addresses: Iterable[str], *, origin_kinds: frozenset[str]) -> str | None:
    """Why a redirect to `host`, resolved to `addresses`, is refused, or None.

    `origin_kinds` are the kinds of the addresses the check's own URL resolved to: those stay allowed.
    One forbidden address is enough to refuse (a name that resolves to a public and a metadata address
    could be connected to either).
    """
    for address in addresses:
        kind = address_kind(address)
        if kind is not None and kind not in origin_kinds:
            if address == host:
                return f"redirect to {host} refused: {kind}"
            return f"redirect to {host} refused: it resolves to {address}, a {kind}"
    return None
