"""The alert router, one folder per stage of its pipeline:

    intake/     Lambda event (SNS, EventBridge, Sentry envelope, anything else) -> Alert   (pure)
    routing/    Alert + routing config -> Route: channel, severity, category, why           (pure)
    rendering/  Alert + Route -> Slack payload; incident-thread messages; Slack's limits   (pure)
    delivery/   payload -> Slack (webhooks or Web API), once per message id                 (I/O)
    incidents/  bot-token mode: incident decisions (pure), silences, their store, the loop (I/O)

models.py (the Alert model) and settings.py (the environment, validated once) serve every stage;
handler.py wires them and is the only module that imports them all.
"""
