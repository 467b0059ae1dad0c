"""Fixtures shared by every test layer."""

from __future__ import annotations

import pytest

from lambdas.shared.local_context import LocalLambdaContext


@pytest.fixture
def lambda_context() -> LocalLambdaContext:
    return LocalLambdaContext(function_name="test-function", timeout_seconds=60)
