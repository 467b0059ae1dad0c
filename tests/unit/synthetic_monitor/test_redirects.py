"""The redirect policy: which hosts and addresses a probe may be sent to."""

from __future__ import annotations

import pytest

from lambdas.synthetic_monitor.redirects import (
    LINK_LOCAL,
    LOOPBACK,
    METADATA,
    UNSPECIFIED,
    address_kind,
    address_refusal,
    host_refusal,
)


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("169.254.169.254", LINK_LOCAL),  # EC2 instance metadata
        ("169.254.170.2", LINK_LOCAL),  # ECS task / Lambda container credentials
        ("fe80::1", LINK_LOCAL),
        ("fe80::1%eth0", LINK_LOCAL),
        ("127.0.0.1", LOOPBACK),  # the Lambda Runtime API listens on 127.0.0.1:9001
        ("127.8.9.10", LOOPBACK),
        ("::1", LOOPBACK),
        ("fd00:ec2::254", METADATA),  # EC2 instance metadata over IPv6
        ("0.0.0.0", UNSPECIFIED),
        ("0.1.2.3", UNSPECIFIED),
        ("::", UNSPECIFIED),
        ("::ffff:169.254.169.254", LINK_LOCAL),  # IPv4-mapped
        ("::ffff:127.0.0.1", LOOPBACK),
        ("64:ff9b::a9fe:a9fe", LINK_LOCAL),  # NAT64 form of 169.254.169.254
        ("93.184.215.14", None),
        ("10.0.1.23", None),  # a private VPC address is where a VPC-attached check may live
        ("2606:4700::1111", None),
    ],
)
def test_address_kinds(address: str, kind: str | None) -> None:
    assert address_kind(address) == kind


def test_a_redirect_to_another_host_needs_the_allowlist() -> None:
    assert host_refusal("api.example.com", origin_host="API.example.com", allowed_hosts=frozenset()) is None
    assert (
        host_refusal("auth.example.com", origin_host="api.example.com", allowed_hosts=frozenset({"auth.example.com"}))
        is None
    )
    assert host_refusal("evil.example", origin_host="api.example.com", allowed_hosts=frozenset()) == (
        "redirect to evil.example refused: not the check's host (list it in redirect_hosts to allow it)"
    )


def test_special_addresses_are_refused_unless_the_check_lives_there() -> None:
    public: frozenset[str] = frozenset()
    # Given a check on a public address: the metadata endpoints and the Runtime API are refused
    assert address_refusal("169.254.169.254", ["169.254.169.254"], origin_kinds=public) == (
        "redirect to 169.254.169.254 refused: link-local address"
    )
    assert address_refusal("127.0.0.1", ["127.0.0.1"], origin_kinds=public) == (
        "redirect to 127.0.0.1 refused: loopback address"
    )
    # A name counts by what it resolves to, and one bad address among good ones is enough
    assert address_refusal("api.example.com", ["93.184.215.14", "169.254.169.254"], origin_kinds=public) == (
        "redirect to api.example.com refused: it resolves to 169.254.169.254, a link-local address"
    )
    assert address_refusal("api.example.com", ["93.184.215.14"], origin_kinds=public) is None
    # Given a check on 127.0.0.1 (the local demo): loopback stays allowed, link-local does not
    local = frozenset({LOOPBACK})
    assert address_refusal("127.0.0.1", ["127.0.0.1"], origin_kinds=local) is None
    assert address_refusal("169.254.170.2", ["169.254.170.2"], origin_kinds=local) == (
        "redirect to 169.254.170.2 refused: link-local address"
    )
