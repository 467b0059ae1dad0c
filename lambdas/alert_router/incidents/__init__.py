"""Incidents (bot-token mode): an `Alert`, its `Route` and payload in, Slack messages in one thread per
incident out (posted, replied, updated in place), state kept between invocations.

model.py (records, plans) and decide.py (the rules) are pure, as is silences.py; store.py keeps records
(DynamoDB or memory); loop.py claims, posts and commits; defaults.py wires the loop for the handler.
"""
