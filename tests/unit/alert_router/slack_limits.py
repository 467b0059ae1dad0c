"""A checker for the Slack limits and safety rules every rendered message must meet (shared by the tests).

Lengths are counted the way Slack may count them (rendering.text.slack_length: emoji as their short codes,
pinned against Slack's short codes in tests/unit/alert_router/test_rendering.py), not in code points.
"""

from __future__ import annotations

import re
from typing import Any

from lambdas.alert_router.rendering.text import slack_length

# A "<" in mrkdwn is only ours: links <https://...|label>; anything else means unescaped input.
_OUR_LINK = re.compile(r"<https://[^|<>\s]+\|[^<>]+>")
# ... and the mentions we write ourselves: who clicked a button, the escalation group
_OUR_MENTION = re.compile(r"<@[UW][A-Z0-9]+>|<!subteam\^S[A-Z0-9]+>")
_FORBIDDEN_RENDERINGS = ("None", "null", "nan")


def _mrkdwn_texts(blocks: list[dict[str, Any]]) -> list[str]:
    texts = []
    for block in blocks:
        if block.get("type") == "section":
            if "text" in block:
                texts.append(block["text"]["text"])
            texts += [field["text"] for field in block.get("fields", [])]
        elif block.get("type") == "context":
            texts += [element["text"] for element in block["elements"]]
    return texts


def slack_problems(payload: dict[str, Any], *, placeholders: bool = True) -> list[str]:  # noqa: PLR0912 - one branch per rule, on purpose
    """Every rule the message breaks (empty list: valid).

    placeholders=False skips the None/null check, for arbitrary input where "None" may be the real text.
    """
    problems: list[str] = []
    text = payload.get("text")
    if not isinstance(text, str) or not text.strip():
        problems.append("top-level text missing")
    elif slack_length(text) > 4000:  # Slack truncates longer top-level text; we keep it to a notification line
        problems.append("top-level text length")
    blocks: list[dict[str, Any]] = list(payload.get("blocks", []))
    for attachment in payload.get("attachments", []):
        blocks += attachment.get("blocks", [])
    if len(blocks) > 50:
        problems.append(f"{len(blocks)} blocks")
    for block in blocks:
        if block["type"] == "header":
            header = block["text"]
            if header["type"] != "plain_text" or not 0 < slack_length(header["text"]) <= 150:
                problems.append(f"bad header {header!r}")
        elif block["type"] == "section":
            if "text" in block and not 0 < slack_length(block["text"]["text"]) <= 3000:
                problems.append("section text length")
            fields = block.get("fields", [])
            if len(fields) > 10 or any(not 0 < slack_length(f["text"]) <= 2000 for f in fields):
                problems.append("fields")
            if "text" not in block and not fields:
                problems.append("empty section")
        elif block["type"] == "context":
            if not block["elements"] or any(not e["text"] for e in block["elements"]):
                problems.append("empty context")
            if any(slack_length(e["text"]) > 2000 for e in block["elements"]):
                problems.append("context text length")
        elif block["type"] == "actions":
            problems += _actions_problems(block)
        else:
            problems.append(f"unexpected block {block['type']}")
    for mrkdwn in [*_mrkdwn_texts(blocks), text if isinstance(text, str) else ""]:
        leftover = _OUR_MENTION.sub("", _OUR_LINK.sub("", mrkdwn))
        if "<" in leftover or ">" in leftover:
            problems.append(f"unescaped < or > in {mrkdwn[:80]!r}")
        if re.search(r"&(?!amp;|lt;|gt;)", leftover):
            problems.append(f"unescaped & in {mrkdwn[:80]!r}")
        outside_code = re.sub(r"```.*?```", "", leftover, flags=re.DOTALL)  # raw input is shown as received
        for word in _FORBIDDEN_RENDERINGS if placeholders else ():
            if re.search(rf"(^|[\s:*_(]){word}($|[\s,.)*_])", outside_code):
                problems.append(f"{word!r} rendered in {mrkdwn[:80]!r}")
        if re.search(r"@(channel|here|everyone)\b", leftover):  # escaped ones carry a word joiner
            problems.append("a broadcast mention would ping")
    return problems


def _actions_problems(block: dict[str, Any]) -> list[str]:
    """Buttons: https://docs.slack.dev/reference/block-kit/blocks/actions-block and
    https://docs.slack.dev/reference/block-kit/block-elements/button-element (text 75, value 2000, ids 255)."""
    elements = block.get("elements", [])
    problems = [] if 0 < len(elements) <= 25 else ["actions elements"]
    if len(block.get("block_id", "")) > 255:
        problems.append("block_id length")
    for element in elements:
        label = element.get("text", {})
        if element.get("type") != "button" or label.get("type") != "plain_text":
            problems.append(f"unexpected element {element.get('type')}")
        elif not 0 < slack_length(label["text"]) <= 75 or not 0 < len(element.get("action_id", "")) <= 255:
            problems.append("button text or action_id length")
        elif len(element.get("value", "")) > 2000 or element.get("style") not in (None, "primary", "danger"):
            problems.append("button value or style")
    return problems
