"""Routing: an `Alert` and the routing config in, a `Route` out (channel, severity, category, and why).

route.py decides; rules.py is the CloudWatch rule table; sentry_rules.py is Sentry's table and its parser;
rds_rules.py maps RDS event categories to severity and category.
"""
