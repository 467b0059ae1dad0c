"""Every call an AWS service (or a function's role) makes on this stack's behalf, as AWS documents it.

Each builder reads the deployed template (tests/infra/aws_rules/template.py) and returns `Call`s: the
request context AWS sends (principal, action, resource ARN, context keys) and the policies AWS evaluates
for it. The page that documents each request is cited next to it. `aws:SecureTransport` is "true" on
every call: AWS services and the SDK call over TLS.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from tests.infra.aws_rules.policy import Policy, Principal, Request, RolePrincipal, ServicePrincipal
from tests.infra.aws_rules.template import DeployedTemplate, UnresolvedToken

TLS = {"aws:SecureTransport": "true"}
ALARM_ACTION_KINDS = ("AlarmActions", "OKActions", "InsufficientDataActions")


@dataclass(frozen=True)
class Call:
    request: Request
    policies: tuple[Policy, ...] = ()
    key_policy: Policy | None = None


# --- policies of the resources ---------------------------------------------------------------------------


def _key_logical_id(t: DeployedTemplate, key_arn: str) -> str:
    for logical_id in t.resources("AWS::KMS::Key"):
        if t.get_att(logical_id, "Arn") == key_arn:
            return logical_id
    raise UnresolvedToken(f"no key of this stack has the ARN {key_arn}")


def key_policy_of(t: DeployedTemplate, key_arn: str) -> Policy:
    logical_id = _key_logical_id(t, key_arn)
    return Policy(f"key policy of {logical_id}", t.properties(logical_id)["KeyPolicy"], "resource")


def topic_policies(t: DeployedTemplate, topic_arn: str) -> tuple[Policy, ...]:
    return tuple(
        Policy(f"topic policy {logical_id}", props["PolicyDocument"], "resource")
        for logical_id in t.resources("AWS::SNS::TopicPolicy")
        if topic_arn in (props := t.properties(logical_id))["Topics"]
    )


def queue_policies(t: DeployedTemplate, queue_logical_id: str) -> tuple[Policy, ...]:
    url = t.get_att(queue_logical_id, "QueueUrl")
    return tuple(
        Policy(f"queue policy {logical_id}", props["PolicyDocument"], "resource")
        for logical_id in t.resources("AWS::SQS::QueuePolicy")
        if url in (props := t.properties(logical_id))["Queues"]
    )


def function_policy(t: DeployedTemplate, function_arn: str) -> Policy:
    """The function's resource-based policy: one statement per AWS::Lambda::Permission, written the way
    Lambda's AddPermission writes them (SourceArn -> ArnLike AWS:SourceArn, SourceAccount -> StringEquals
    AWS:SourceAccount, FunctionUrlAuthType -> StringEquals lambda:FunctionUrlAuthType, InvokedViaFunctionUrl
    -> Bool lambda:InvokedViaFunctionUrl).
    https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html
    https://docs.aws.amazon.com/lambda/latest/api/API_AddPermission.html"""
    statements = []
    for logical_id in t.resources("AWS::Lambda::Permission"):
        props = t.properties(logical_id)
        target = props["FunctionName"]
        if target not in (function_arn, function_arn.rsplit(":", 1)[-1]):
            continue
        principal = props["Principal"]
        condition: dict[str, dict[str, str]] = {}
        if "SourceArn" in props:
            condition.setdefault("ArnLike", {})["AWS:SourceArn"] = props["SourceArn"]
        if "SourceAccount" in props:
            condition.setdefault("StringEquals", {})["AWS:SourceAccount"] = props["SourceAccount"]
        if "FunctionUrlAuthType" in props:
            condition.setdefault("StringEquals", {})["lambda:FunctionUrlAuthType"] = props["FunctionUrlAuthType"]
        if props.get("InvokedViaFunctionUrl"):
            condition["Bool"] = {"lambda:InvokedViaFunctionUrl": "true"}
        statements.append(
            {
                "Sid": logical_id,
                "Effect": "Allow",
                "Principal": "*"
                if principal == "*"
                else {"Service" if principal.endswith(".amazonaws.com") else "AWS": principal},
                "Action": props["Action"],
                "Resource": function_arn,
                **({"Condition": condition} if condition else {}),
            }
        )
    return Policy(f"resource policy of {function_arn}", {"Statement": statements}, "resource")


def role_policies(t: DeployedTemplate, role_logical_id: str) -> tuple[Policy, ...]:
    role = t.properties(role_logical_id)
    if role.get("ManagedPolicyArns"):
        raise UnresolvedToken(f"{role_logical_id}: managed policies are not modelled")
    role_name = t.ref(role_logical_id)
    inline = [
        Policy(f"{role_logical_id} inline {p['PolicyName']}", p["PolicyDocument"], "identity")
        for p in role.get("Policies", [])
    ]
    attached = [
        Policy(f"identity policy {logical_id}", props["PolicyDocument"], "identity")
        for logical_id in t.resources("AWS::IAM::Policy")
        if role_name in (props := t.properties(logical_id)).get("Roles", [])
    ]
    return (*inline, *attached)


# --- what services send --------------------------------------------------------------------------------


def _service(prefix: str) -> ServicePrincipal:
    return ServicePrincipal(f"{prefix}.amazonaws.com")


def kms_calls(
    principal: Principal,
    key_arn: str,
    *,
    context: Mapping[str, str],
    policies: tuple[Policy, ...],
    key: Policy,
    why: str,
) -> list[Call]:
    """A service encrypting for a resource asks KMS for a data key, and decrypts it to read back."""
    return [
        Call(Request(principal, action, key_arn, {**TLS, **context}, why), policies, key)
        for action in ("kms:GenerateDataKey", "kms:Decrypt")
    ]


def publish_calls(
    t: DeployedTemplate,
    principal: Principal,
    topic_arn: str,
    *,
    context: Mapping[str, str],
    policies: tuple[Policy, ...],
    why: str,
) -> list[Call]:
    """sns:Publish through the topic policy, and on a KMS-encrypted topic the publisher's KMS calls with the
    SNS encryption context `aws:sns:topicArn`.
    https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
    https://docs.aws.amazon.com/sns/latest/dg/sns-server-side-encryption.html"""
    topic_id = t.logical_id_of("AWS::SNS::Topic", topic_arn)
    calls = [
        Call(
            Request(principal, "sns:Publish", topic_arn, {**TLS, **context}, why),
            (*policies, *topic_policies(t, topic_arn)),
        )
    ]
    key_arn = t.properties(topic_id).get("KmsMasterKeyId")
    if key_arn:
        kms_context = {**context, "kms:EncryptionContext:aws:sns:topicArn": topic_arn}
        if isinstance(principal, RolePrincipal):
            # A role's KMS request is made by SNS for it: kms:ViaService names SNS in the region.
            # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service
            kms_context["kms:ViaService"] = f"sns.{t.region}.amazonaws.com"
        key = key_policy_of(t, key_arn)
        calls += kms_calls(principal, key_arn, context=kms_context, policies=policies, key=key, why=why + ", KMS")
    return calls


def send_calls(
    t: DeployedTemplate,
    principal: Principal,
    queue_arn: str,
    *,
    context: Mapping[str, str],
    policies: tuple[Policy, ...],
    why: str,
) -> list[Call]:
    """sqs:SendMessage through the queue policy; with a KMS key (not SQS-managed SSE) also the sender's KMS
    calls with the SQS encryption context `aws:sqs:arn`.
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html"""
    queue_id = t.logical_id_of("AWS::SQS::Queue", queue_arn)
    calls = [
        Call(
            Request(principal, "sqs:SendMessage", queue_arn, {**TLS, **context}, why),
            (*policies, *queue_policies(t, queue_id)),
        )
    ]
    key_arn = t.properties(queue_id).get("KmsMasterKeyId")
    if key_arn:
        kms_context = {**context, "kms:EncryptionContext:aws:sqs:arn": queue_arn}
        key = key_policy_of(t, key_arn)
        calls += kms_calls(principal, key_arn, context=kms_context, policies=policies, key=key, why=why + ", KMS")
    return calls


def log_group_key_calls(t: DeployedTemplate) -> Iterator[Call]:
    """CloudWatch Logs uses the log group's key as the regional service principal, with the encryption
    context `aws:logs:arn` = `arn:aws:logs:<region>:<account>:log-group:<name>` (no `:*`): when the group is
    created with KmsKeyId, and on every PutLogEvents and read.
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html"""
    for logical_id in t.resources("AWS::Logs::LogGroup"):
        props = t.properties(logical_id)
        if "KmsKeyId" not in props:
            continue
        name = props["LogGroupName"]
        context = {"kms:EncryptionContext:aws:logs:arn": t.arn("logs", f"log-group:{name}")}
        key = key_policy_of(t, props["KmsKeyId"])
        for action in ("kms:GenerateDataKey", "kms:Encrypt", "kms:Decrypt"):
            why = f"CreateLogGroup/PutLogEvents of {name}"
            yield Call(
                Request(_service(f"logs.{t.region}"), action, props["KmsKeyId"], {**TLS, **context}, why), (), key
            )


def alarm_action_calls(t: DeployedTemplate) -> Iterator[Call]:
    """An alarm's state change publishes as `cloudwatch.amazonaws.com` with `aws:SourceArn` = the alarm's ARN
    and `aws:SourceAccount` (topic policy and topic key alike).
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Notify_Users_Alarm_Changes.html
    https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html#source-account-versus-source-owner"""
    for logical_id in t.resources("AWS::CloudWatch::Alarm"):
        props = t.properties(logical_id)
        alarm_arn = t.get_att(logical_id, "Arn")
        context = {"aws:SourceArn": alarm_arn, "aws:SourceAccount": t.account}
        for kind in ALARM_ACTION_KINDS:
            for action_arn in props.get(kind, []):
                if not action_arn.startswith("arn:aws:sns:"):
                    raise UnresolvedToken(f"{props['AlarmName']} {kind}: {action_arn} is not an SNS topic")
                why = f"{props['AlarmName']} {kind}"
                yield from publish_calls(t, _service("cloudwatch"), action_arn, context=context, policies=(), why=why)


def subscription_calls(t: DeployedTemplate) -> Iterator[Call]:
    """SNS delivering: to Lambda it invokes the function as `sns.amazonaws.com` with `aws:SourceArn` = the topic
    (https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html); to SQS, and to a subscription's redrive
    dead-letter queue, it sends as `sns.amazonaws.com` with the same `aws:SourceArn`
    (https://docs.aws.amazon.com/sns/latest/dg/subscribe-sqs-queue-to-sns-topic.html,
    https://docs.aws.amazon.com/sns/latest/dg/sns-configure-dead-letter-queue.html), and to a queue encrypted
    with a customer-managed key it asks that key for the data key, as itself, so the key policy must allow
    `sns.amazonaws.com` (https://docs.aws.amazon.com/sns/latest/dg/sns-enable-encryption-for-topic-sqs-queue-subscriptions.html)."""
    sns = _service("sns")
    for logical_id in t.resources("AWS::SNS::Subscription"):
        props = t.properties(logical_id)
        topic_arn = props["TopicArn"]
        context = {"aws:SourceArn": topic_arn, "aws:SourceAccount": t.account}
        protocol, endpoint = props["Protocol"], props["Endpoint"]
        why = f"{topic_arn.rsplit(':', 1)[-1]} -> {protocol} {endpoint.rsplit(':', 1)[-1]}"
        if protocol == "lambda":
            yield Call(
                Request(sns, "lambda:InvokeFunction", endpoint, {**TLS, **context}, why),
                (function_policy(t, endpoint),),
            )
        elif protocol == "sqs":
            yield from send_calls(t, sns, endpoint, context=context, policies=(), why=why)
        dead_letters = props.get("RedrivePolicy", {}).get("deadLetterTargetArn")
        if dead_letters:
            redrive = why + " (redrive to its dead-letter queue)"
            yield from send_calls(t, sns, dead_letters, context=context, policies=(), why=redrive)


def schedule_calls(t: DeployedTemplate) -> Iterator[Call]:
    """An EventBridge rule invokes its Lambda target as `events.amazonaws.com` with `aws:SourceArn` = the rule.
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-lambda-permissions"""
    for logical_id in t.resources("AWS::Events::Rule"):
        rule_arn = t.get_att(logical_id, "Arn")
        for target in t.properties(logical_id).get("Targets", []):
            if ":lambda:" in target["Arn"]:
                context = {"aws:SourceArn": rule_arn, "aws:SourceAccount": t.account}
                why = f"rule {rule_arn.rsplit('/', 1)[-1]}"
                request = Request(_service("events"), "lambda:InvokeFunction", target["Arn"], {**TLS, **context}, why)
                yield Call(request, (function_policy(t, target["Arn"]),))
            elif "RoleArn" not in target:
                raise UnresolvedToken(f"rule {logical_id}: target {target['Arn']} is not modelled")


def function_url_calls(t: DeployedTemplate) -> Iterator[Call]:
    """An anonymous caller (Sentry) of a Function URL with AuthType NONE needs lambda:InvokeFunctionUrl with
    `lambda:FunctionUrlAuthType` = NONE, and lambda:InvokeFunction with `lambda:InvokedViaFunctionUrl`.
    https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html"""
    anonymous = RolePrincipal("arn:aws:iam::999999999999:role/anyone-on-the-internet")
    for logical_id in t.resources("AWS::Lambda::Url"):
        props = t.properties(logical_id)
        function_arn = props["TargetFunctionArn"]
        policy = (function_policy(t, function_arn),)
        url_context = {**TLS, "lambda:FunctionUrlAuthType": props["AuthType"]}
        yield Call(Request(anonymous, "lambda:InvokeFunctionUrl", function_arn, url_context, "Function URL"), policy)
        via_url = {**TLS, "lambda:InvokedViaFunctionUrl": "true"}
        yield Call(Request(anonymous, "lambda:InvokeFunction", function_arn, via_url, "Function URL"), policy)


# --- what each function's code calls with its role -------------------------------------------------------


# Environment variables that carry a resource, and the SDK calls the function's code makes with it
# (action, resource ARN as the SDK sends it). A new variable that holds a token fails the layer until
# its calls are declared here.
def _secret(t: DeployedTemplate, arn: str) -> list[tuple[str, str]]:
    # Powertools get_secret -> GetSecretValue with the ARN (lambdas/shared, lambdas/*/settings.py)
    return [("secretsmanager:GetSecretValue", arn)]


def _table(*actions: str, index: str | None = None, index_actions: tuple[str, ...] = ()) -> Any:
    def calls(t: DeployedTemplate, name: str) -> list[tuple[str, str]]:
        # DynamoDB item and query requests are authorized on the table ARN, queries of an index on
        # `<table ARN>/index/<name>`: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/using-identity-based-policies.html
        table_arn = t.arn("dynamodb", f"table/{name}")
        found = [(action, table_arn) for action in actions]
        if index:
            found += [(action, f"{table_arn}/index/{index}") for action in index_actions]
        return found

    return calls


def _log_group_queries(t: DeployedTemplate, name: str) -> list[tuple[str, str]]:
    # lambdas/alert_router/enrichment/top_errors.py: StartQuery is authorized on the log group, in the ARN form
    # with the trailing ":*" ("use this version ... in IAM policies ... for most API actions":
    # https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_LogGroup.html; the StartQuery
    # policy of https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/OpenSearch-Dashboards-CreateRole.html);
    # GetQueryResults and StopQuery have no resource type ("*"):
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html
    return [
        ("logs:StartQuery", t.arn("logs", f"log-group:{name}:*")),
        ("logs:GetQueryResults", "*"),
        ("logs:StopQuery", "*"),
    ]


def _invoke(t: DeployedTemplate, arn: str) -> list[tuple[str, str]]:
    # lambdas/slack_actions/handoff.py: Invoke (InvocationType Event) of the router by the ARN in the variable;
    # authorized as lambda:InvokeFunction on the function ARN, unqualified as sent
    # (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html,
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html)
    if ":function:" not in arn:
        raise UnresolvedToken(f"{arn} is not a function ARN")
    return [("lambda:InvokeFunction", arn)]


ENVIRONMENT_CALLS: dict[str, Any] = {
    "SLACK_WEBHOOK_SECRET_ARN": _secret,
    "SENTRY_CLIENT_SECRET_ARN": _secret,
    "SLACK_SIGNING_SECRET_ARN": _secret,
    "ROUTER_FUNCTION_NAME": _invoke,
    # Powertools DynamoDBPersistenceLayer: get, put (conditional), update, delete on failure.
    "IDEMPOTENCY_TABLE_NAME": _table(
        "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"
    ),
    # lambdas/alert_router/incidents/store.py: get_item, conditional put_item, query on the sweep index.
    "INCIDENT_TABLE_NAME": _table(
        "dynamodb:GetItem", "dynamodb:PutItem", index="sweep", index_actions=("dynamodb:Query",)
    ),
    # lambdas/shared/synthetic_results.py: the monitor's BatchWriteItem, the router's Query
    # https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html
    "RESULTS_TABLE_NAME": _table("dynamodb:BatchWriteItem"),
    "SYNTHETIC_RESULTS_TABLE_NAME": _table("dynamodb:Query"),
    "ERROR_LOG_GROUP": _log_group_queries,
    # lambdas/alert_router/enrichment/graph.py: GetMetricWidgetImage has no resource type ("*")
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html
    # https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricWidgetImage.html
    "GRAPH_REGION": lambda t, region: [("cloudwatch:GetMetricWidgetImage", "*")],
}
# the Sentry intake's alert topic; the router's escalation topic (lambdas/alert_router/incidents/pager.py)
PUBLISHED_TOPIC_VARIABLES = ("ALERT_TOPIC_ARN", "ESCALATION_TOPIC_ARN")


def function_role_calls(t: DeployedTemplate) -> Iterator[Call]:
    """What each function does with its execution role: write its logs, reach the resources named in its
    environment, and (asynchronous invocations) hand failed events to its on-failure destination, which
    Lambda does with the function's execution role.
    https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html
    https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html"""
    for logical_id in t.resources("AWS::Lambda::Function"):
        props = t.properties(logical_id)
        name = props["FunctionName"]
        role_id = t.logical_id_of("AWS::IAM::Role", props["Role"].rsplit("/", 1)[-1])
        role = RolePrincipal(props["Role"])
        policies = role_policies(t, role_id)
        log_group = props.get("LoggingConfig", {}).get("LogGroup", f"/aws/lambda/{name}")
        # CreateLogStream / PutLogEvents are authorized on the stream's ARN.
        # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html
        stream_arn = t.arn("logs", f"log-group:{log_group}:log-stream:2026/12/01/[$LATEST]0123456789abcdef")
        for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
            yield Call(Request(role, action, stream_arn, TLS, f"{name} writes its logs"), policies)
        for variable, value in props.get("Environment", {}).get("Variables", {}).items():
            raw = t.resource(logical_id)["Properties"]["Environment"]["Variables"][variable]
            if isinstance(raw, str):
                continue  # a plain setting, not a resource
            if variable in PUBLISHED_TOPIC_VARIABLES:
                why = f"{name} publishes ({variable})"
                yield from publish_calls(t, role, value, context={}, policies=policies, why=why)
            elif variable in ENVIRONMENT_CALLS:
                for action, resource in ENVIRONMENT_CALLS[variable](t, value):
                    yield Call(Request(role, action, resource, TLS, f"{name} ({variable})"), policies)
            else:
                raise UnresolvedToken(f"{name}: declare the calls its code makes with {variable} in ENVIRONMENT_CALLS")
        yield from _destination_calls(t, logical_id, role, policies, name)
        yield from _event_source_calls(t, t.get_att(logical_id, "Arn"), role, policies, name)


def metric_put_calls(t: DeployedTemplate) -> Iterator[Call]:
    """A probe stack's monitor (lambdas/synthetic_monitor/home_region.py) puts its results into the Region named by
    METRICS_REGION, in the namespace POWERTOOLS_METRICS_NAMESPACE: cloudwatch:PutMetricData, which has no resource
    types ('*'), with `cloudwatch:namespace` = the request's Namespace and `aws:RequestedRegion` = the Region of the
    endpoint it calls (not the function's own).
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/iam-cw-condition-keys-namespace.html
    https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-requestedregion"""
    for logical_id in t.resources("AWS::Lambda::Function"):
        props = t.properties(logical_id)
        variables = props.get("Environment", {}).get("Variables", {})
        if "METRICS_REGION" not in variables:
            continue
        role_id = t.logical_id_of("AWS::IAM::Role", props["Role"].rsplit("/", 1)[-1])
        context = {
            **TLS,
            "cloudwatch:namespace": variables["POWERTOOLS_METRICS_NAMESPACE"],
            "aws:RequestedRegion": variables["METRICS_REGION"],
        }
        why = f"{props['FunctionName']} puts its results into {variables['METRICS_REGION']}"
        request = Request(RolePrincipal(props["Role"]), "cloudwatch:PutMetricData", "*", context, why)
        yield Call(request, role_policies(t, role_id))


def _destination_calls(t: DeployedTemplate, function_id: str, role: RolePrincipal, policies: tuple[Policy, ...],
                       name: str) -> Iterator[Call]:  # fmt: skip
    for config_id in t.resources("AWS::Lambda::EventInvokeConfig"):
        props = t.properties(config_id)
        if props["FunctionName"] != t.ref(function_id):
            continue
        for outcome in ("OnFailure", "OnSuccess"):
            destination = props.get("DestinationConfig", {}).get(outcome, {}).get("Destination")
            if destination is None:
                continue
            if ":sqs:" in destination:
                yield from send_calls(t, role, destination, context={}, policies=policies, why=f"{name} {outcome}")
            elif ":sns:" in destination:
                yield from publish_calls(t, role, destination, context={}, policies=policies, why=f"{name} {outcome}")
            else:
                raise UnresolvedToken(f"{name}: destination {destination} is not modelled")


def _event_source_calls(t: DeployedTemplate, function_arn: str, role: RolePrincipal, policies: tuple[Policy, ...],
                        name: str) -> Iterator[Call]:  # fmt: skip
    """Lambda polls an SQS event source with the function's role: ReceiveMessage, DeleteMessage,
    GetQueueAttributes on the queue, and kms:Decrypt when the queue has a KMS key.
    https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html#events-sqs-permissions"""
    for mapping_id in t.resources("AWS::Lambda::EventSourceMapping"):
        props = t.properties(mapping_id)
        if props["FunctionName"] not in (function_arn, function_arn.rsplit(":", 1)[-1]):
            continue
        queue_arn = props["EventSourceArn"]
        if ":sqs:" not in queue_arn:
            raise UnresolvedToken(f"{name}: event source {queue_arn} is not modelled")
        queue_id = t.logical_id_of("AWS::SQS::Queue", queue_arn)
        with_queue = (*policies, *queue_policies(t, queue_id))
        for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"):
            yield Call(Request(role, action, queue_arn, TLS, f"{name} polls its queue"), with_queue)
        key_arn = t.properties(queue_id).get("KmsMasterKeyId")
        if key_arn:
            context = {
                **TLS,
                "kms:EncryptionContext:aws:sqs:arn": queue_arn,
                "kms:ViaService": f"sqs.{t.region}.amazonaws.com",
            }
            yield Call(Request(role, "kms:Decrypt", key_arn, context, f"{name} polls its queue, KMS"), policies,
                       key_policy_of(t, key_arn))  # fmt: skip


def every_call(t: DeployedTemplate) -> list[Call]:
    return [
        *log_group_key_calls(t),
        *alarm_action_calls(t),
        *subscription_calls(t),
        *schedule_calls(t),
        *function_url_calls(t),
        *function_role_calls(t),
        *metric_put_calls(t),
    ]
