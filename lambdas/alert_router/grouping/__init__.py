"""Grouping: the routed alerts of one batch in, the messages to post out (pure).

keys.py says which fault an alert belongs to (config override, the `Group:` line, the resource its
metric watches); plan.py folds the alerts of one fault into one group message led by its most severe
member, in that member's channel (inhibition: the others do not also post in theirs), and turns a
channel that would get more than the storm threshold of alerts into one digest.
"""
