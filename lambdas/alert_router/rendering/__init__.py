"""Rendering: an `Alert` and its `Route` in, a Slack payload (Block Kit) out; pure, within Slack's limits.

render.py dispatches to alarm.py, sentry.py and unparsed.py (also the fallback when a renderer fails);
incident.py renders bot-token mode's thread replies, updated originals and notices; text.py and blocks.py
hold the text safety rules and Slack's limits; facts.py words numbers, reasons, times and links.
"""
