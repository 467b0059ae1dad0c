"""The synthesized template as AWS sees it once deployed: intrinsic functions resolved to physical ARNs.

A fixed test account and the configured region stand in for the real ones. Physical names and ARNs are
written in the format each resource type's "Return values" section documents in the CloudFormation
template reference (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/
aws-resource-<service>-<type>.html#aws-resource-<service>-<type>-return-values); a resource without an
explicit name gets a CloudFormation-style generated one (`<stack>-<LogicalId>-<suffix>`).
Unknown intrinsics or attributes raise, so nothing is compared as an unresolved token.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

TEST_ACCOUNT = "111122223333"
PARTITION = "aws"


class UnresolvedToken(ValueError):
    """The template holds an intrinsic or attribute this resolver does not model."""


# resource type -> the property holding its physical name
NAME_PROPERTY = {
    "AWS::SNS::Topic": "TopicName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Events::Rule": "Name",
    "AWS::IAM::Role": "RoleName",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::KMS::Alias": "AliasName",
}


@dataclass(frozen=True)
class DeployedTemplate:
    template: Mapping[str, Any]
    stack_name: str
    region: str
    account: str = TEST_ACCOUNT

    # --- names and ARNs -------------------------------------------------------------------------------

    def resource(self, logical_id: str) -> Mapping[str, Any]:
        resources: Mapping[str, Any] = self.template["Resources"]
        if logical_id not in resources:
            raise UnresolvedToken(f"no resource {logical_id}")
        resource: Mapping[str, Any] = resources[logical_id]
        return resource

    def resources(self, resource_type: str) -> dict[str, Mapping[str, Any]]:
        return {lid: r for lid, r in self.template["Resources"].items() if r["Type"] == resource_type}

    def physical_name(self, logical_id: str) -> str:
        resource = self.resource(logical_id)
        prop = NAME_PROPERTY.get(resource["Type"])
        name = resource.get("Properties", {}).get(prop) if prop else None
        if name is None:
            return f"{self.stack_name}-{logical_id}-1A2B3C4D5E6F"
        return str(self.resolve(name))

    def arn(self, service: str, resource: str, *, region: bool = True) -> str:
        return f"arn:{PARTITION}:{service}:{self.region if region else ''}:{self.account}:{resource}"

    def ref(self, logical_id: str) -> str:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::Partition": PARTITION,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.stack_name,
        }
        if logical_id in pseudo:
            return pseudo[logical_id]
        kind = self.resource(logical_id)["Type"]
        by_arn = {"AWS::SNS::Topic", "AWS::SecretsManager::Secret"}
        if kind in by_arn:
            return self.get_att(logical_id, "Arn")
        if kind == "AWS::SQS::Queue":
            return self.get_att(logical_id, "QueueUrl")
        if kind == "AWS::KMS::Key":
            return self.get_att(logical_id, "KeyId")
        return self.physical_name(logical_id)

    def get_att(self, logical_id: str, attribute: str) -> str:
        kind = self.resource(logical_id)["Type"]
        name = self.physical_name(logical_id)
        attributes: dict[str, Callable[[], str]] = {}
        if kind == "AWS::SNS::Topic":
            attributes = {"Arn": lambda: self.arn("sns", name), "TopicArn": lambda: self.arn("sns", name)}
        elif kind == "AWS::SQS::Queue":
            attributes = {
                "Arn": lambda: self.arn("sqs", name),
                "QueueName": lambda: name,
                "QueueUrl": lambda: f"https://sqs.{self.region}.amazonaws.com/{self.account}/{name}",
            }
        elif kind == "AWS::KMS::Key":
            key_id = f"00000000-0000-4000-8000-{zlib.crc32(logical_id.encode()):012d}"
            attributes = {"Arn": lambda: self.arn("kms", f"key/{key_id}"), "KeyId": lambda: key_id}
        elif kind == "AWS::Logs::LogGroup":
            attributes = {"Arn": lambda: self.arn("logs", f"log-group:{name}:*")}
        elif kind == "AWS::Lambda::Function":
            attributes = {"Arn": lambda: self.arn("lambda", f"function:{name}")}
        elif kind == "AWS::SecretsManager::Secret":
            # Secrets Manager appends a hyphen and six random characters to the name in the ARN.
            attributes = {"Arn": lambda: self.arn("secretsmanager", f"secret:{name}-AbCdEf")}
        elif kind == "AWS::DynamoDB::Table":
            attributes = {"Arn": lambda: self.arn("dynamodb", f"table/{name}")}
        elif kind == "AWS::Events::Rule":
            attributes = {"Arn": lambda: self.arn("events", f"rule/{name}")}
        elif kind == "AWS::IAM::Role":
            attributes = {"Arn": lambda: self.arn("iam", f"role/{name}", region=False)}
        elif kind == "AWS::CloudWatch::Alarm":
            attributes = {"Arn": lambda: self.arn("cloudwatch", f"alarm:{name}")}
        if attribute not in attributes:
            raise UnresolvedToken(f"{kind}.{attribute} ({logical_id}) is not modelled")
        return attributes[attribute]()

    # --- intrinsic functions --------------------------------------------------------------------------

    def resolve(self, value: Any) -> Any:
        """Replace every intrinsic function in `value` (recursively) by its deployed value."""
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, Mapping):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            intrinsic = self._intrinsics().get(key)
            if intrinsic is not None:
                return intrinsic(argument)
            if key.startswith("Fn::") or key == "Condition":
                raise UnresolvedToken(f"{key} is not modelled")
        return {key: self.resolve(item) for key, item in value.items()}

    def _intrinsics(self) -> dict[str, Callable[[Any], Any]]:
        return {
            "Ref": self.ref,
            "Fn::GetAtt": lambda arg: self.get_att(*(arg if isinstance(arg, list) else arg.split(".", 1))),
            "Fn::Join": lambda arg: str(arg[0]).join(str(self.resolve(part)) for part in arg[1]),
            "Fn::Sub": self._sub,
        }

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        out, rest = [], str(text)
        while "${" in rest:
            before, _, after = rest.partition("${")
            name, _, rest = after.partition("}")
            out.append(before)
            if name in variables:
                out.append(str(self.resolve(variables[name])))
            elif "." in name:
                logical_id, attribute = name.split(".", 1)
                out.append(self.get_att(logical_id, attribute))
            else:
                out.append(self.ref(name))
        return "".join([*out, rest])

    def properties(self, logical_id: str) -> dict[str, Any]:
        resolved: dict[str, Any] = self.resolve(dict(self.resource(logical_id).get("Properties", {})))
        return resolved

    def logical_id_of(self, resource_type: str, physical: str) -> str:
        """The resource of `resource_type` whose Ref or Arn is `physical`."""
        for logical_id in self.resources(resource_type):
            candidates = {self.ref(logical_id)}
            with contextlib.suppress(UnresolvedToken):
                candidates.add(self.get_att(logical_id, "Arn"))
            if physical in candidates:
                return logical_id
        raise UnresolvedToken(f"no {resource_type} is {physical}")
