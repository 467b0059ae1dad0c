"""What outlives the stack, and why a failed first deploy can simply be run again.

Kept resources are `RETAIN_ON_UPDATE_OR_DELETE`, CloudFormation's DeletionPolicy `RetainExceptOnCreate`:
kept when the stack is updated or deleted, but deleted when the operation that created them rolls back.
So a failed first `cdk deploy` leaves no fixed-name secret, log group or KMS key behind, and the same
command can be run again. https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html
"""

from __future__ import annotations

import jsii
from aws_cdk import CfnDeletionPolicy, CfnResource, IAspect, RemovalPolicy
from constructs import IConstruct

KEPT = RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE


def kept_in_production(environment: str) -> RemovalPolicy:
    """Production data is kept; staging's may go with its stack."""
    return KEPT if environment == "production" else RemovalPolicy.DESTROY


@jsii.implements(IAspect)
class RetainExceptOnCreate:
    """Turns every plain `Retain` of the stack (whoever wrote it) into `RetainExceptOnCreate`."""

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, CfnResource) and node.cfn_options.deletion_policy == CfnDeletionPolicy.RETAIN:
            node.apply_removal_policy(KEPT)
