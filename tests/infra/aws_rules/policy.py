"""A small IAM policy evaluator: asks the question AWS asks when a service or a role makes a call.

Why our own: the maintained PyPI evaluators do not fit (docs/operations/decisions.md, issue 11). It covers
what this stack's templates use and refuses the rest loudly (`UnsupportedPolicy`), so a template that
starts using NotPrincipal, ForAnyValue or a numeric operator fails here instead of being misjudged.

The rules, as AWS documents them:
- Evaluation: an explicit Deny in any applicable policy wins; otherwise an Allow is needed; otherwise the
  request is implicitly denied. Within one account, an Allow in the identity policy or in the resource
  policy is enough, except for KMS keys, where the key policy must allow, itself or by naming the
  account (which lets IAM policies allow).
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
  https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam
- Action: `service:Name`, case-insensitive, `*` and `?` wildcards.
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
- Resource: case-sensitive; `*` and `?` wildcards; a `*` may match across `:`.
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
- Condition: every operator and every key of a block must match (AND); several values for one key match
  if any matches (OR), and a negated operator matches only if none does. A key absent from the request
  makes a condition false, a negated one true. Condition key names are case-insensitive.
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html
- ArnEquals and ArnLike behave alike: each of the six `:`-separated parts of the ARN is matched on its
  own, with `*`/`?` wildcards that do not cross a `:` (the condition-operators page, ARN section).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

ContextValue = str | tuple[str, ...]


class UnsupportedPolicy(ValueError):
    """The policy uses an element or operator this evaluator does not model."""


class Decision(enum.Enum):
    ALLOW = "allowed"
    EXPLICIT_DENY = "explicitly denied"
    IMPLICIT_DENY = "implicitly denied (no statement allows it)"


@dataclass(frozen=True)
class ServicePrincipal:
    name: str  # e.g. "logs.ap-northeast-1.amazonaws.com"


@dataclass(frozen=True)
class RolePrincipal:
    arn: str  # arn:aws:iam::<account>:role/<name>

    @property
    def account(self) -> str:
        return self.arn.split(":")[4]


Principal = ServicePrincipal | RolePrincipal


@dataclass(frozen=True)
class Request:
    """One authorization request: who, what, on which resource, with which context keys."""

    principal: Principal
    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)
    why: str = ""  # what the call is, for failure messages

    def describe(self) -> str:
        who = self.principal.name if isinstance(self.principal, ServicePrincipal) else self.principal.arn
        keys = ", ".join(f"{key}={value}" for key, value in sorted(self.context.items()))
        return f"{who} {self.action} on {self.resource} [{keys}]" + (f" ({self.why})" if self.why else "")


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    reason: str

    @property
    def allowed(self) -> bool:
        return self.decision is Decision.ALLOW


# --- wildcards -----------------------------------------------------------------------------------------


@cache
def _glob(pattern: str, *, case_sensitive: bool) -> re.Pattern[str]:
    parts = ("." if char == "?" else ".*" if char == "*" else re.escape(char) for char in pattern)
    return re.compile("".join(parts), 0 if case_sensitive else re.IGNORECASE)


def glob_match(pattern: str, value: str, *, case_sensitive: bool = True) -> bool:
    return _glob(pattern, case_sensitive=case_sensitive).fullmatch(value) is not None


def arn_match(pattern: str, value: str) -> bool:
    """ArnLike/ArnEquals: the six parts matched one by one; a value that is not an ARN never matches."""
    pattern_parts, value_parts = pattern.split(":", 5), value.split(":", 5)
    if len(pattern_parts) != 6 or len(value_parts) != 6:
        return False
    return all(glob_match(p, v) for p, v in zip(pattern_parts, value_parts, strict=True))


# --- conditions ----------------------------------------------------------------------------------------


def _bool_match(pattern: str, value: str) -> bool:
    return pattern.lower() == value.lower()


# operator -> (compare(policy value, request value), negated)
OPERATORS: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    "StringEquals": (lambda p, v: p == v, False),
    "StringNotEquals": (lambda p, v: p == v, True),
    "StringEqualsIgnoreCase": (lambda p, v: p.lower() == v.lower(), False),
    "StringLike": (glob_match, False),
    "StringNotLike": (glob_match, True),
    "ArnEquals": (arn_match, False),
    "ArnLike": (arn_match, False),
    "ArnNotEquals": (arn_match, True),
    "ArnNotLike": (arn_match, True),
    "Bool": (_bool_match, False),
}


def condition_matches(condition: Mapping[str, Mapping[str, Any]], context: Mapping[str, ContextValue]) -> bool:
    lowered = {key.lower(): value for key, value in context.items()}
    for operator, keys in condition.items():
        for key, policy_values in keys.items():
            present = key.lower() in lowered
            if operator == "Null":
                (expected,) = _strings(policy_values)
                if (expected.lower() == "true") == present:
                    return False
                continue
            if operator not in OPERATORS:
                raise UnsupportedPolicy(f"condition operator {operator} is not modelled")
            compare, negated = OPERATORS[operator]
            if not present:
                if not negated:
                    return False
                continue
            value = lowered[key.lower()]
            if not isinstance(value, str):
                raise UnsupportedPolicy(f"{key} is multi-valued: needs ForAnyValue/ForAllValues, not modelled")
            hit = any(compare(pattern, value) for pattern in _strings(policy_values))
            if hit == negated:
                return False
    return True


def _strings(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(item, str) for item in values):
        raise UnsupportedPolicy(f"condition values must be resolved strings, got {value!r}")
    return [str(item) for item in values]


# --- statements ----------------------------------------------------------------------------------------


class PrincipalMatch(enum.Enum):
    NONE = 0
    DIRECT = 1  # the statement names this principal (service, role ARN, or "*")
    ACCOUNT = 2  # the statement names the principal's account: IAM policies of that account decide


def principal_match(element: Any, principal: Principal) -> PrincipalMatch:
    if element == "*":
        return PrincipalMatch.DIRECT
    if not isinstance(element, Mapping):
        raise UnsupportedPolicy(f"Principal {element!r} is not modelled")
    unknown = set(element) - {"Service", "AWS"}
    if unknown:
        raise UnsupportedPolicy(f"Principal types {sorted(unknown)} are not modelled")
    if isinstance(principal, ServicePrincipal):
        return PrincipalMatch.DIRECT if principal.name in _strings(element.get("Service", [])) else PrincipalMatch.NONE
    for named in _strings(element.get("AWS", [])):
        if named in ("*", principal.arn):
            return PrincipalMatch.DIRECT
        if named in (principal.account, f"arn:aws:iam::{principal.account}:root"):
            return PrincipalMatch.ACCOUNT
    return PrincipalMatch.NONE


def _statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statements = document.get("Statement", [])
    return list(statements) if isinstance(statements, list) else [statements]


def statement_applies(statement: Mapping[str, Any], request: Request) -> bool:
    """Action, resource and condition match (the principal is judged apart)."""
    for unsupported in ("NotAction", "NotResource", "NotPrincipal"):
        if unsupported in statement:
            raise UnsupportedPolicy(f"{unsupported} is not modelled")
    if not any(glob_match(a, request.action, case_sensitive=False) for a in _strings(statement["Action"])):
        return False
    if not any(glob_match(r, request.resource) for r in _strings(statement["Resource"])):
        return False
    return condition_matches(statement.get("Condition", {}), request.context)


@dataclass(frozen=True)
class Policy:
    """A named policy document: `kind` is identity (a role's policy) or resource (key, topic, queue, function)."""

    name: str
    document: Mapping[str, Any]
    kind: str  # "identity" | "resource"


def evaluate(request: Request, policies: Iterable[Policy], *, key_policy: Policy | None = None) -> Verdict:
    """Same-account evaluation. With `key_policy` (a KMS key), that policy must allow, itself or by
    naming the account, and in the second case an identity policy must allow as well."""
    applicable = [*policies, *([key_policy] if key_policy else [])]
    allows: list[tuple[Policy, PrincipalMatch, str]] = []
    for policy in applicable:
        for index, statement in enumerate(_statements(policy.document)):
            match = PrincipalMatch.DIRECT
            if policy.kind == "resource":
                match = principal_match(statement.get("Principal"), request.principal)
                if match is PrincipalMatch.NONE:
                    continue
            if not statement_applies(statement, request):
                continue
            where = f"{policy.name} statement {statement.get('Sid', index)}"
            if statement["Effect"] == "Deny":
                return Verdict(Decision.EXPLICIT_DENY, f"denied by {where}")
            allows.append((policy, match, where))
    by_identity = [where for policy, _match, where in allows if policy.kind == "identity"]
    if key_policy is not None:
        return _key_verdict([(match, where) for policy, match, where in allows if policy is key_policy], by_identity)
    direct = [where for policy, match, where in allows if policy.kind == "resource" and match is PrincipalMatch.DIRECT]
    delegated = [where for policy, match, where in allows if match is PrincipalMatch.ACCOUNT]
    if direct or by_identity:
        return Verdict(Decision.ALLOW, f"allowed by {(direct or by_identity)[0]}")
    if delegated:
        return Verdict(Decision.IMPLICIT_DENY, f"{delegated[0]} names the account, and no identity policy allows it")
    return Verdict(Decision.IMPLICIT_DENY, "no statement allows it")


def _key_verdict(by_key: list[tuple[PrincipalMatch, str]], by_identity: list[str]) -> Verdict:
    """A KMS key: its policy allows the principal itself, or names the account and IAM allows."""
    direct = [where for match, where in by_key if match is PrincipalMatch.DIRECT]
    delegated = [where for match, where in by_key if match is PrincipalMatch.ACCOUNT]
    if direct:
        return Verdict(Decision.ALLOW, f"allowed by {direct[0]}")
    if delegated and by_identity:
        return Verdict(Decision.ALLOW, f"allowed by {by_identity[0]} (the key policy defers to IAM)")
    return Verdict(Decision.IMPLICIT_DENY, "the key policy allows neither the principal nor, through IAM, its account")


def explain_failures(results: Sequence[tuple[Request, Verdict]]) -> str:
    return "\n".join(
        f"{verdict.decision.value}: {request.describe()}: {verdict.reason}" for request, verdict in results
    )
