"""Intake: a Lambda event in, a list of `Alert` out (one per record, never an exception).

events.py dispatches by shape; cloudwatch.py (SNS alarm JSON, EventBridge state changes), sentry.py (the
Sentry intake's envelope) and rds.py (RDS event notifications) parse; fields.py holds the typed getters
every parser reads input through.
"""
