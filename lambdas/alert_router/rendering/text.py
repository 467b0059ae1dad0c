"""Text safety and Slack's limits: escaping untrusted text for mrkdwn, links, truncation with a marker.

Untrusted text (descriptions, reasons, names, raw input) is escaped (&, <, >) so it cannot `@channel` or
inject links; a cut text ends with a visible marker and never with half an HTML entity.
"""

from __future__ import annotations

import re

HEADER_LIMIT = 150
SECTION_LIMIT = 3000
FIELD_LIMIT = 2000
MAX_FIELDS = 10
MAX_BLOCKS = 50
CONTEXT_LIMIT = 2000  # a context element text, like a field
FALLBACK_TEXT_LIMIT = 1000  # the notification line; Slack allows more, phones show less
TRUNCATION_MARKER = "… [truncated]"


_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)


def escape(text: str) -> str:
    """Escape mrkdwn's control characters (&, <, >) and defuse bare @channel/@here/@everyone.

    A word joiner after "@" keeps the text readable while Slack's automatic parsing no longer sees a mention.
    """
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub("@\u2060\\1", escaped)


def truncate(text: str, limit: int, marker: str = TRUNCATION_MARKER) -> str:
    """At most `limit` code points; a cut text ends with the marker and never with half an HTML entity."""
    if len(text) <= limit:
        return text
    keep = max(0, limit - len(marker))
    cut = text[:keep]
    amp = cut.rfind("&", max(0, keep - 5))
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]  # "&am" would show as garbage
    return cut + marker[: max(0, limit - len(cut))]


def safe_url(url: str) -> str:
    """A URL placed inside <url|label>: characters that would end or split the link are percent-encoded."""
    return url.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E").replace(" ", "%20")


def link(url: str, label: str) -> str:
    return f"<{safe_url(url)}|{escape(label)}>"
