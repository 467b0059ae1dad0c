"""Alarm noise report: which alarms fire, how long they stay, which are noise, and how to tune them.

    python -m tools.alarm_report --history FILE --out DIR      (FILE: aws cloudwatch describe-alarm-history)
    make alarm-report ENV=production DAYS=14                   (reads CloudWatch and the incident table)

Pipeline, a pure core with thin edges:
    history.py    CLI JSON / API items -> state transitions (other item types counted, not read)
    episodes.py   transitions + period -> per-alarm ALARM episodes (open ones stay open)
    stats.py      episodes -> per-alarm statistics and the noise ranking (the rule is stated in the report)
    tuning.py     metric + alarm definition -> replayed episodes and a threshold/datapoints suggestion
    config_keys.py  which config key drives which alarm property (derived by synthesizing) and the YAML change
    markdown.py, charts.py   the report and its PNG pictures
    aws.py        the AWS edge: DescribeAlarms, DescribeAlarmHistory, GetMetricData, the incident table
"""
