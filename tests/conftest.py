"""Fixtures shared by every test layer."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from lambdas.shared.local_context import LocalLambdaContext
from lambdas.shared.synthetic_results import PROCESS_RESULTS
from tests.aws_tables import FAKE_CREDENTIALS, REGION


def pytest_sessionstart(session: pytest.Session) -> None:
    """Give this session's stdout to log handlers still holding a closed one.

    The functions' Powertools Loggers are module-level: their handler keeps the sys.stdout of the pytest
    session that imported them. `make mutation` (mutmut) runs one session per mutant in a fork of the process
    that imported them in an earlier session, whose captured stdout is closed by then: every log line would be
    a "--- Logging error ---" traceback on stderr instead (and a token-leak test would read the test's own
    source in it). A single `pytest` run has no closed stream, so this changes nothing there.
    """
    for candidate in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
        for handler in getattr(candidate, "handlers", ()):
            if isinstance(handler, logging.StreamHandler) and getattr(handler.stream, "closed", False):
                handler.stream = sys.stdout  # not setStream: it flushes the closed stream first


@pytest.fixture(autouse=True)
def _no_synthetic_results_from_other_tests() -> Iterator[None]:
    """The monitor's in-process results (no table) would otherwise reach a later test's router as a cause."""
    PROCESS_RESULTS.clear()
    yield
    PROCESS_RESULTS.clear()


@pytest.fixture
def lambda_context() -> LocalLambdaContext:
    return LocalLambdaContext(function_name="test-function", timeout_seconds=60)


@pytest.fixture
def moto_dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Every AWS call mocked (fake credentials, REGION) for the test; yields a DynamoDB client without tables."""
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield boto3.client("dynamodb", region_name=REGION)
