"""The service's log groups (retention per the report), their KMS key, and the Logs Insights queries
on-call asks first.

Production groups outlive the stack (up to 90 days of logs are not deleted with it); staging's may go,
except the audit group, which is always kept. With `logs.adopt_existing` the groups that ECS or an earlier
Terraform already made are used by name instead of created (docs/operations/deployment-guide.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import LogRetention, LogsConfig
from infra.retention import KEPT, kept_in_production

GROUP_KINDS = ("application", "access", "error", "audit")


@dataclass(frozen=True)
class SavedQuery:
    name: str
    groups: tuple[str, ...]
    fields: tuple[str, ...] = ()
    filters: tuple[str, ...] = ()
    stats: str | None = None
    sort: str | None = None
    limit: int | None = None

    def query_string(self) -> logs.QueryString:
        return logs.QueryString(
            fields=list(self.fields) or None,
            filter_statements=list(self.filters) or None,
            stats_statements=[self.stats] if self.stats else None,
            sort=self.sort,
            limit=self.limit,
        )


# The PeopleBooster API logs JSON lines; these queries read its fields (level, route, method, status,
# responseTime in ms, message, userId, action, resource, sourceIp). The runbooks name them by title.
SAVED_QUERIES = (
    SavedQuery(
        "recent-errors-by-route",
        ("error", "application"),
        filters=("level = 'error' or status >= 500",),
        stats="count(*) as errors, latest(message) as last_message by route",
        sort="errors desc",
        limit=25,
    ),
    SavedQuery(
        "slowest-requests",
        ("access",),
        fields=("@timestamp", "method", "route", "status", "responseTime"),
        filters=("ispresent(responseTime)",),
        sort="responseTime desc",
        limit=50,
    ),
    SavedQuery(
        "5xx-over-time",
        ("access",),
        filters=("status >= 500",),
        stats="count(*) as responses_5xx by bin(1m)",
    ),
    SavedQuery(
        "audit-trail-for-one-user",
        ("audit",),
        fields=("@timestamp", "userId", "action", "resource", "sourceIp"),
        filters=("userId = 'REPLACE_WITH_USER_ID'",),
        sort="@timestamp desc",
        limit=200,
    ),
)

RETENTION = {
    1: logs.RetentionDays.ONE_DAY, 3: logs.RetentionDays.THREE_DAYS, 5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK, 14: logs.RetentionDays.TWO_WEEKS, 30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS, 90: logs.RetentionDays.THREE_MONTHS, 120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS, 180: logs.RetentionDays.SIX_MONTHS, 365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS, 545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS, 1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS, 3653: logs.RetentionDays.TEN_YEARS,
}  # fmt: skip


def log_group_name(environment: str, kind: str) -> str:
    return f"/aws/ecs/{environment}/{kind}"


def removal_policy(environment: str, kind: str) -> RemovalPolicy:
    """The audit trail is always kept; production keeps every group."""
    return KEPT if kind == "audit" else kept_in_production(environment)


def log_key(scope: Construct, *, prefix: str, environment: str) -> kms.Key:
    """The KMS key of this environment's ECS log groups: CloudWatch Logs may use it for them only."""
    stack = Stack.of(scope)
    key = kms.Key(
        scope,
        "LogsKey",
        alias=f"alias/{prefix}-logs",
        description=f"Encrypts the {prefix} ECS log groups",
        enable_key_rotation=True,
        pending_window=Duration.days(30),
        # The audit group is kept, so the key that decrypts it must be too.
        removal_policy=KEPT,
    )
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchLogs",
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            resources=["*"],
            # CloudWatch Logs sends the group's ARN as `...:log-group:<name>` (colon, no `:*`) in the
            # encryption context; ArnLike matches it part by part, so the pattern must use that form.
            # https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name=log_group_name(environment, "*"),
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                }
            },
        )
    )
    return key


class LogsConstruct(Construct):
    """`/aws/ecs/{env}/{application,access,error,audit}`: `groups` by kind, `key`, `queries`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        prefix: str,
        environment: str,
        retention: LogRetention,
        settings: LogsConfig,
    ) -> None:
        super().__init__(scope, construct_id)
        self.key = log_key(self, prefix=prefix, environment=environment)
        days = {"application": retention.application, "access": retention.access, "error": retention.error,
                "audit": retention.audit}  # fmt: skip
        self.groups: dict[str, logs.ILogGroup] = {}
        for kind in GROUP_KINDS:
            name = log_group_name(environment, kind)
            if settings.adopt_existing:
                self.groups[kind] = logs.LogGroup.from_log_group_name(self, f"{kind.capitalize()}LogGroup", name)
                continue
            self.groups[kind] = logs.LogGroup(
                self,
                f"{kind.capitalize()}LogGroup",
                log_group_name=name,
                retention=RETENTION[days[kind]],
                encryption_key=self.key,
                removal_policy=removal_policy(environment, kind),
            )
        self.queries = [
            logs.QueryDefinition(
                self,
                f"Query{index}",
                query_definition_name=f"{prefix}/{saved.name}",
                query_string=saved.query_string(),
                log_groups=[self.groups[group] for group in saved.groups],
            )
            for index, saved in enumerate(SAVED_QUERIES)
        ]
