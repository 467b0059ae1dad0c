"""A check's redirect_hosts may name IP literals too (a load balancer's address), normalised to lower case."""

from __future__ import annotations

import json

from lambdas.synthetic_monitor.settings import settings_from_env


def test_redirect_hosts_may_be_ip_literals() -> None:
    check = {"name": "a", "url": "/health", "conditions": [{"status": 200}], "redirect_hosts": ["10.0.0.7", "FD00::1"]}
    [parsed] = settings_from_env({"CHECKS": json.dumps([check])}).checks
    assert parsed.redirect_hosts == frozenset({"10.0.0.7", "fd00::1"})
