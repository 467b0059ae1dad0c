"""Answers only the clicking user sees (bot-token mode's buttons): one POST to the click's `response_url`.

Slack gives every interaction a `response_url` (https://hooks.slack.com/actions/...) that takes a message
for the user who clicked, `response_type: ephemeral` leaving the original message as it is, for a while
after the click (https://docs.slack.dev/interactivity/handling-user-interaction). The URL comes from a
signed request, through the interactivity endpoint; the router still posts only to Slack's host (or,
locally, to the loopback Slack Web API it already talks to), so no event can make it post elsewhere.
The URL is a credential for that answer: it never appears in a log line or an exception (scrub_secrets).

The delivery is the engine's (deadline, retries, plain-text fallback); Slack's answer is read as the Web
API's (JSON `ok`) or an incoming webhook's (`ok`), whichever it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from lambdas.alert_router.delivery.answers import Answer, plain_text, web_api_answer, webhook_answer
from lambdas.alert_router.delivery.engine import DeliveryEngine, DeliveryError, DeliveryReport
from lambdas.alert_router.delivery.webhook import post_json
from lambdas.alert_router.models import Payload
from lambdas.shared.deadline_http import Deadline

SLACK_RESPONSE_URL = re.compile(r"^https://hooks\.slack\.com/actions/[A-Za-z0-9/_-]+$")
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})


def _slack_answer(status: int, body: bytes, retry_after: str | None) -> Answer:
    """A response URL answers like the Web API (JSON `ok`) or like a webhook (`ok`): read whichever it is."""
    read = web_api_answer if body.lstrip().startswith(b"{") else webhook_answer
    return read(status, body, retry_after)


def response_url_allowed(url: str, api_base_url: str) -> bool:
    """Slack's own response URLs; locally also one on the loopback Slack the router's Web API calls go to."""
    if SLACK_RESPONSE_URL.match(url):
        return True
    api, target = urlsplit(api_base_url), urlsplit(url)
    return api.scheme == "http" and api.hostname in _LOOPBACK and (target.scheme, target.netloc) == ("http", api.netloc)


@dataclass
class ResponseUrlClient:
    api_base_url: str
    engine: DeliveryEngine = field(default_factory=DeliveryEngine)

    def answer(self, url: str, payload: Payload, *, channel: str) -> DeliveryReport:
        if not response_url_allowed(url, self.api_base_url):
            raise DeliveryError("the click's response URL is not Slack's: not answered", channel=channel)

        def post(message: Payload, deadline: Deadline) -> Answer:
            return post_json(url, message, deadline, _slack_answer)

        return self.engine.deliver(
            channel=channel,
            what=f"the answer to a click in channel {channel!r}",
            target=None,
            send=post,
            payload=payload,
            plain={**plain_text(payload), "response_type": "ephemeral", "replace_original": False},
        )
