"""Enrichment: an `Alert` in, what it does not say itself out (`Enrichment`): the cause in words.

threshold.py words a threshold alarm's value and threshold (pure, no I/O); synthetic.py words what the
synthetic monitor saw, from its latest results (pure, the records read by enrich.py); top_errors.py runs
the Logs Insights query of a 5xx alarm's top errors; enrich.py reads the sources within the invocation's
deadline and never fails the alert; graph.py attaches the alarm's graph to the incident thread (bot-token
mode); settings.py and defaults.py configure and build them.
"""
