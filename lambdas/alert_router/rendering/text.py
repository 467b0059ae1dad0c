"""Text safety and Slack's limits: escaping untrusted text for mrkdwn, links, truncation with a marker.

Untrusted text (descriptions, reasons, names, raw input) is escaped (&, <, >) so it cannot `@channel` or
inject links; a cut text ends with a visible marker and never with half an HTML entity or code point.

How long a text is for Slack (`slack_length`): Slack documents its limits in "characters" (header 150,
section 3000, field and context 2000: https://docs.slack.dev/reference/block-kit/blocks/header-block,
.../section-block) without saying how it counts, and it stores an emoji as its `:name:` short code (a
message read back says `:white_check_mark:` where ✅ was posted). So we count conservatively: one per UTF-16
code unit (a character outside the Basic Multilingual Plane counts 2, as in JavaScript), our own emoji as
their short code, and any other emoji as the longest short code Slack has (`:man_in_business_suit_levitating:`,
33) plus room for a skin tone. Japanese text counts one per character, which Slack accepts (a section of
2,500 kana posts; bytes would have made it 7,500).
"""

from __future__ import annotations

import re
from bisect import bisect_right

HEADER_LIMIT = 150
SECTION_LIMIT = 3000
FIELD_LIMIT = 2000
MAX_FIELDS = 10
MAX_BLOCKS = 50
CONTEXT_LIMIT = 2000  # a context element text, like a field
FALLBACK_TEXT_LIMIT = 1000  # the notification line; Slack allows more, phones show less
TRUNCATION_MARKER = "… [truncated]"

# Our own emoji, counted as the short code Slack stores them as.
_KNOWN_EMOJI = {
    "🔴": len(":red_circle:"),
    "🟠": len(":large_orange_circle:"),
    "👉": len(":point_right:"),
    "📈": len(":chart_with_upwards_trend:"),
    "✅": len(":white_check_mark:"),
    "⚪": len(":white_circle:"),
    "ℹ": len(":information_source:"),  # noqa: RUF001 - the information emoji, on purpose
    "🔁": len(":repeat:"),
    "⏰": len(":alarm_clock:"),
    "🔕": len(":no_bell:"),
    "✔": len(":heavy_check_mark:"),
}
UNKNOWN_EMOJI_LENGTH = len(":man_in_business_suit_levitating:") + len("::skin-tone-2:") - 1
# Code point ranges with emoji in them (Unicode's Extended_Pictographic, coarsely; counting more is safe).
_EMOJI_RANGES = (
    (0x00A9, 0x00A9),
    (0x00AE, 0x00AE),
    (0x203C, 0x203C),
    (0x2049, 0x2049),
    (0x2122, 0x2122),
    (0x2139, 0x2139),
    (0x2194, 0x2199),
    (0x21A9, 0x21AA),
    (0x2300, 0x23FF),
    (0x24C2, 0x24C2),
    (0x25AA, 0x25FE),
    (0x2600, 0x27BF),
    (0x2934, 0x2935),
    (0x2B05, 0x2B55),
    (0x3030, 0x3030),
    (0x303D, 0x303D),
    (0x3297, 0x3299),
    (0x1F000, 0x1FAFF),
)


_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)


def escape(text: str) -> str:
    """Escape mrkdwn's control characters (&, <, >) and defuse bare @channel/@here/@everyone.

    A word joiner after "@" keeps the text readable while Slack's automatic parsing no longer sees a mention.
    """
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub("@\u2060\\1", escaped)


_RANGE_STARTS = tuple(low for low, _ in _EMOJI_RANGES)


def char_length(char: str) -> int:
    """What one code point counts towards a Slack limit (see the module docstring)."""
    point = ord(char)
    if point < 0xA9:
        return 1
    known = _KNOWN_EMOJI.get(char)
    if known is not None:
        return known
    index = bisect_right(_RANGE_STARTS, point) - 1
    if index >= 0 and point <= _EMOJI_RANGES[index][1]:
        return UNKNOWN_EMOJI_LENGTH
    return 2 if point > 0xFFFF else 1


_EMOJI = re.compile("[" + "".join(f"{chr(low)}-{chr(high)}" for low, high in _EMOJI_RANGES) + "]")


def slack_length(text: str) -> int:
    """How long `text` is against Slack's limits, counted conservatively: UTF-16 code units (counted by the
    codec, in C), plus what each emoji adds to that."""
    if text.isascii():
        return len(text)
    units = len(text.encode("utf-16-le", errors="surrogatepass")) // 2
    return units + sum(
        char_length(found[0]) - len(found[0].encode("utf-16-le")) // 2 for found in _EMOJI.finditer(text)
    )


def truncate(text: str, limit: int, marker: str = TRUNCATION_MARKER) -> str:
    """At most `limit` long as Slack counts (slack_length); a cut text ends with the marker and never with
    half an HTML entity."""
    if slack_length(text) <= limit:
        return text
    budget = max(0, limit - slack_length(marker))
    keep = 0
    for char in text:
        budget -= char_length(char)
        if budget < 0:
            break
        keep += 1
    cut = text[:keep]
    amp = cut.rfind("&", max(0, keep - 5))
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]  # "&am" would show as garbage
    room = limit - slack_length(cut)
    return cut + (marker if slack_length(marker) <= room else marker[: max(0, room)])


def safe_url(url: str) -> str:
    """A URL placed inside <url|label>: characters that would end or split the link are percent-encoded."""
    return url.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E").replace(" ", "%20")


def link(url: str, label: str) -> str:
    return f"<{safe_url(url)}|{escape(label)}>"
