"""One boto3 session per process for every AWS client a function creates.

A boto3 session owns botocore's loader, which reads and caches the endpoint rules, partitions and service
models. Powertools Parameters and the Idempotency layer each build their own session unless they are given
one, so a cold start loaded that data twice: sharing one made the router's first event 0.87x as long
(bench/cold_start_bench.py, docs/operations/decisions.md, issue 12). boto3 is imported on the first call, so
a function that never reaches AWS (a local run, the dry run) never pays for it.
"""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def boto3_session() -> Any:
    """The process's boto3 Session (region and credentials from the Lambda environment)."""
    import boto3  # noqa: PLC0415 - ~90 ms: only the deployed path needs it

    return boto3.session.Session()


def use_shared_session_for_secrets() -> None:
    """Make Powertools Parameters' `get_secret` build its client from the shared session.

    get_secret uses `DEFAULT_PROVIDERS["secrets"]`, and creates it with a session of its own when it is missing;
    a provider registered there first is used instead, with its cache, by every get_secret of the process.
    """
    from aws_lambda_powertools.utilities.parameters import SecretsProvider  # noqa: PLC0415 - imports boto3
    from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS  # noqa: PLC0415

    if "secrets" not in DEFAULT_PROVIDERS:
        DEFAULT_PROVIDERS["secrets"] = SecretsProvider(boto3_session=boto3_session())
