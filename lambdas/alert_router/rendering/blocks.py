"""Block Kit building blocks, each within Slack's limits; a block with nothing to show is None and left out."""

from __future__ import annotations

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


def header_block(text: str) -> dict[str, Any]:
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": truncate(text, HEADER_LIMIT), "emoji": True},
    }


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


def context_block(parts: list[str | None]) -> dict[str, Any] | None:
    text = "  ·  ".join(part for part in parts if part)
    return {"type": "context", "elements": [mrkdwn(truncate(text, CONTEXT_LIMIT))]} if text else None


def code(text: str, limit: int = SECTION_LIMIT) -> str:
    fence = "```"
    # a fence inside the raw text would end the code block early: break it with zero-width spaces
    body = truncate(escape(text).replace(fence, "`\u200b`\u200b`"), limit - 2 * len(fence) - 2)
    return f"{fence}\n{body}\n{fence}"


def code_span(text: str) -> str:
    """Inline code; a backtick inside would end the span early (the rest then formatted), so it becomes '."""
    return "`" + escape(text).replace("`", "'") + "`"


def message(text: str, colour: str, blocks: list[dict[str, Any] | None]) -> Payload:
    kept = [block for block in blocks if block is not None][:MAX_BLOCKS]
    return {"text": truncate(text, FALLBACK_TEXT_LIMIT), "attachments": [{"color": colour, "blocks": kept}]}
