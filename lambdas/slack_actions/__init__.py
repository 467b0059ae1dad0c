"""Slack interactivity endpoint (Lambda Function URL): verify a button click, hand it to the alert router.

settings.py     the environment, and the signing secret (Secrets Manager deployed, SLACK_SIGNING_SECRET locally)
verify.py       Slack's v0 request signature and the request's answer                              (pure)
interaction.py  Slack's `block_actions` payload -> the incident actions it carries                 (pure)
handoff.py      the actions -> the alert router (an asynchronous invoke; in-process locally)       (I/O)
handler.py      the edge: wires them, logs and counts
"""
