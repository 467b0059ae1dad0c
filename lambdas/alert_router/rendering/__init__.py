"""Rendering: an `Alert` and its `Route` (and what enrichment found) in, a Slack payload (Block Kit) out;
pure, within Slack's limits.

render.py dispatches to alarm.py, sentry.py, rds.py and unparsed.py (also the fallback when a renderer
fails), each filling the one layout of layout.py; incident.py renders bot-token mode's thread replies,
updated originals and notices; blind.py the monitoring-blind notice; text.py and blocks.py hold the text
safety rules and Slack's limits; facts.py words numbers, reasons, times and links.
"""
