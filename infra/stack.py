"""The monitoring stack of one environment: composes one construct per concern."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Environment, Stack
from constructs import Construct

from infra.alarm_factory import AlarmFactory
from infra.config import ConfigError, EnvironmentConfig
from infra.constructs.alert_router import AlertRouterConstruct
from infra.constructs.alerting import AlertingConstruct
from infra.constructs.dashboard import DashboardConstruct
from infra.constructs.logs import LogsConstruct
from infra.constructs.sentry_intake import SentryIntakeConstruct
from infra.constructs.service_alarms import ServiceAlarmsConstruct
from infra.constructs.synthetics import SyntheticsConstruct
from lambdas.alert_router.incidents.silences import silences_everything


def stack_name(config: EnvironmentConfig) -> str:
    return f"{config.prefix}-monitoring"


class MonitoringStack(Stack):
    def __init__(self, scope: Construct, *, config: EnvironmentConfig, **kwargs: Any) -> None:
        env = Environment(account=config.account, region=config.region) if config.account else None
        super().__init__(
            scope,
            stack_name(config),
            env=env,
            description=f"Monitoring and alerting for {config.service_name} ({config.environment})",
            tags={"service": config.service_name, "environment": config.environment, "managed-by": "cdk"},
            **kwargs,
        )
        self.config = config
        self.alerting = AlertingConstruct(self, "Alerting", config=config)
        self.logs = LogsConstruct(self, "Logs", config=config)
        self.alarm_factory = AlarmFactory(config=config, topic=self.alerting.alert_topic)
        self.service_alarms = ServiceAlarmsConstruct(self, "ServiceAlarms", config=config, factory=self.alarm_factory)
        self.dashboard = DashboardConstruct(self, "Dashboard", config=config, alarms=self.service_alarms)
        self.alert_router = AlertRouterConstruct(
            self,
            "AlertRouter",
            config=config,
            factory=self.alarm_factory,
            alert_topic=self.alerting.alert_topic,
            fallback_topic=self.alerting.fallback_topic,
            dashboard_name=self.dashboard.dashboard_name,
        )
        self.dashboard.add_row("Alert router", self.alert_router.widgets)
        self.dashboard.add_row("Incidents", self.alert_router.incident_widgets)
        self.sentry_intake = SentryIntakeConstruct(
            self,
            "SentryIntake",
            config=config,
            alert_topic=self.alerting.alert_topic,
            factory=self.alarm_factory,
            fallback_topic=self.alerting.fallback_topic,
        )
        self.synthetics = SyntheticsConstruct(self, "Synthetics", config=config, factory=self.alarm_factory)
        self.dashboard.add_row("Synthetic monitor", self.synthetics.dashboard_widgets)

        self.dashboard.build(self.alarm_factory.created)
        _refuse_windows_that_silence_every_critical_alarm(config, self.alarm_factory.critical_names)

        CfnOutput(self, "AlertTopicArn", value=self.alerting.alert_topic.topic_arn)
        CfnOutput(self, "DashboardName", value=self.dashboard.dashboard_name)


def _refuse_windows_that_silence_every_critical_alarm(config: EnvironmentConfig, critical_names: list[str]) -> None:
    """Config alone cannot know which alarms are Critical; once every alarm exists, the stack checks."""
    for index, window in enumerate(config.router.incidents.maintenance_windows):
        if silences_everything(window.match, critical_names) and not window.allow_all_critical:
            raise ConfigError(
                f"config/{config.environment}.yaml: router.incidents.maintenance_windows.{index}.match: "
                f"{window.match!r} silences every critical alarm of this stack; set allow_all_critical: true"
            )
