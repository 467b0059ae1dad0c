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

from lambdas.alert_router.delivery.answers import Answer, no_answer, plain_text, web_api_answer, webhook_answer
from lambdas.alert_router.delivery.engine import DeliveryEngine, DeliveryError, DeliveryReport
from lambdas.alert_router.delivery.webhook import JSON_HEADERS, encode_payload
from lambdas.alert_router.models import Payload
from lambdas.shared.deadline_http import TRANSPORT_ERRORS, Deadline, request

SLACK_RESPONSE_URL = re.compile(r"^https://hooks\.slack\.com/actions/[A-Za-z0-9/_-]+$")
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})


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
            try:
                answer = request("POST", url, body=encode_payload(message), headers=JSON_HEADERS, deadline=deadline)
            except TRANSPORT_ERRORS as error:
                return no_answer(error)
            read = web_api_answer if answer.body.lstrip().startswith(b"{") else webhook_answer
            return read(answer.status, answer.body, answer.headers.get("retry-after"))

        return self.engine.deliver(
            channel=channel,
            what=f"the answer to a click in channel {channel!r}",
            target=None,
            send=post,
            payload=payload,
            plain={**plain_text(payload), "response_type": "ephemeral", "replace_original": False},
        )
