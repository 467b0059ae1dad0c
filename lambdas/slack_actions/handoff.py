"""Where a verified click goes: the alert router, invoked asynchronously (deployed) or in-process (local).

Deployed, the endpoint answers Slack within its 3 seconds by doing no incident work itself: it hands each
click to the router with an asynchronous invoke (`InvocationType=Event`: Lambda queues the event and
answers 202 at once; https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html), so the router - which
holds the bot token, the incident table, the lease loop and the Slack client - does the work, with
Lambda's retries and the router's dead-letter destination behind it. Locally the router's handler runs
in this process, like the Sentry intake's local publisher.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from lambdas.shared.slack_actions import IncidentAction, action_event

ACCEPTED = 202  # what Lambda answers an asynchronous invoke it queued


class HandoffError(Exception):
    """The router did not take the click; the message names the function and Lambda's answer, nothing else."""


class Invoker(Protocol):
    def hand_over(self, action: IncidentAction) -> None: ...


@dataclass
class RouterInvoker:
    function_name: str
    client: Any = None  # a boto3 Lambda client; created lazily (boto3 costs ~100 ms to import)

    def hand_over(self, action: IncidentAction) -> None:
        if self.client is None:
            import boto3  # noqa: PLC0415 - only the deployed path needs it
            from botocore.config import Config  # noqa: PLC0415

            # Slack waits 3 s in all: one quick retry of a lost connection, never a long wait
            config = Config(connect_timeout=1, read_timeout=1, retries={"total_max_attempts": 2, "mode": "standard"})
            self.client = boto3.client("lambda", config=config)
        answer = self.client.invoke(
            FunctionName=self.function_name,
            InvocationType="Event",
            Payload=json.dumps(action_event(action)).encode(),
        )
        status = answer.get("StatusCode")
        if status != ACCEPTED:
            raise HandoffError(f"the router ({self.function_name}) answered {status} to the asynchronous invoke")


@dataclass
class LocalRouterInvoker:
    """Local only: the router's handler with the event the asynchronous invoke would deliver."""

    router: Callable[[dict[str, Any], Any], dict[str, Any]] | None = None  # e.g. the demo's router in its environment
    results: list[dict[str, Any]] = field(default_factory=list)

    def hand_over(self, action: IncidentAction) -> None:
        from lambdas.shared.local_context import LocalLambdaContext  # noqa: PLC0415 - local path only

        router = self.router
        if router is None:
            from lambdas.alert_router.handler import lambda_handler  # noqa: PLC0415 - local path only

            router = lambda_handler
        self.results.append(router(action_event(action), LocalLambdaContext(function_name="local-alert-router")))
