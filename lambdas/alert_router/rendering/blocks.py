"""Block Kit building blocks, each within Slack's limits; a block with nothing to show is None and left out.

Limits: https://docs.slack.dev/reference/block-kit/blocks/actions-block (25 elements),
https://docs.slack.dev/reference/block-kit/block-elements/button-element (text 75, url 3000, action_id 255).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lambdas.alert_router.models import Payload
from lambdas.alert_router.rendering.text import (
    CONTEXT_LIMIT,
    FALLBACK_TEXT_LIMIT,
    FIELD_LIMIT,
    HEADER_LIMIT,
    MAX_BLOCKS,
    MAX_FIELDS,
    SECTION_LIMIT,
    escape,
    truncate,
)

BUTTON_TEXT_LIMIT = 75
BUTTON_URL_LIMIT = 3000
MAX_BUTTONS = 25


def header_block(text: str, block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "header",
        "text": {"type": "plain_text", "text": truncate(text, HEADER_LIMIT), "emoji": True},
    }
    if block_id:
        block["block_id"] = block_id
    return block


def mrkdwn(text: str) -> dict[str, Any]:
    # verbatim: no automatic linking of URLs, channel names or mentions in text we did not write
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def section_block(text: str) -> dict[str, Any] | None:
    if not text.strip():
        return None  # Slack rejects an empty text; a missing fact is simply not shown
    return {"type": "section", "text": mrkdwn(truncate(text, SECTION_LIMIT))}


def fields_block(pairs: list[tuple[str, str | None]]) -> dict[str, Any] | None:
    items = [mrkdwn(truncate(f"*{label}*\n{value}", FIELD_LIMIT)) for label, value in pairs if value][:MAX_FIELDS]
    return {"type": "section", "fields": items} if items else None


def context_block(parts: list[str | None], separator: str = "  ·  ") -> dict[str, Any] | None:
    text = separator.join(part for part in parts if part)
    return {"type": "context", "elements": [mrkdwn(truncate(text, CONTEXT_LIMIT))]} if text else None


def button(text: str, url: str, action_id: str, *, primary: bool = False) -> dict[str, Any] | None:
    """A link button; a URL longer than Slack accepts is left out (a cut URL would open the wrong page)."""
    if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")) or len(url) > BUTTON_URL_LIMIT:
        return None
    element: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": truncate(text, BUTTON_TEXT_LIMIT), "emoji": True},
        "url": url,
        "action_id": action_id,
    }
    if primary:
        element["style"] = "primary"
    return element


def actions_block(buttons: list[dict[str, Any] | None], block_id: str) -> dict[str, Any] | None:
    elements = [item for item in buttons if item is not None][:MAX_BUTTONS]
    return {"type": "actions", "block_id": block_id, "elements": elements} if elements else None


def code(text: str, limit: int = SECTION_LIMIT) -> str:
    fence = "```"
    # a fence inside the raw text would end the code block early: break it with zero-width spaces
    body = truncate(escape(text).replace(fence, "`\u200b`\u200b`"), limit - 2 * len(fence) - 2)
    return f"{fence}\n{body}\n{fence}"


def code_span(text: str) -> str:
    """Inline code; a backtick inside would end the span early (the rest then formatted), so it becomes '."""
    return "`" + escape(text).replace("`", "'") + "`"


def message(
    text: str, colour: str, blocks: Sequence[dict[str, Any] | None], details: Sequence[dict[str, Any] | None] = ()
) -> Payload:
    """Top-level `blocks` (what is read first; Slack then shows `text` only as the notification) and, when
    there are details, one attachment holding them, which draws the state's colour bar beside them."""
    kept = [block for block in blocks if block is not None]
    small = [block for block in details if block is not None]
    payload: Payload = {"text": truncate(text, FALLBACK_TEXT_LIMIT), "blocks": kept[:MAX_BLOCKS]}
    if small:
        payload["attachments"] = [{"color": colour, "blocks": small[: max(0, MAX_BLOCKS - len(kept))]}]
    return payload
