"""Delivery: a channel and a Slack payload in, a delivery report (or DeliveryError) out; the I/O edge.

webhook.py posts to incoming webhooks, web_api.py calls the Web API (bot-token mode); idempotency.py runs
each message's delivery at most once per message id; defaults.py builds the per-process adapters.
"""
