"""CloudWatch metric math, the part this stack's alarms and graphs use, evaluated locally (a development tool).

The semantics are CloudWatch's documented ones
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html):
- arithmetic `+ - * / ^` and unary `-`: a value missing in one time series is treated as 0; a data point
  that would divide by zero is dropped ("Basic arithmetic functions");
- comparison `== != <= >= < >` and logical `AND`/`&&`, `OR`/`||`: 1 (true) or 0 (false); between two time
  series a missing value is 0 ("Comparison and logical operators");
- `IF(condition, true, false)`: per time stamp of the condition, the true value where it is non-zero, the false
  value elsewhere; a true point whose true series has no value is 0, a false point whose false series has no
  value (or no false argument) is dropped, and a time stamp the condition lacks is dropped ("Using IF
  expressions");
- `PERIOD(m)`: the period of metric `m` in seconds, for metrics only, not for the results of expressions.
Anything else (other functions, METRICS(), SEARCH) raises UnsupportedExpression instead of being guessed.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

Series = dict[float, float]  # period start (seconds since the epoch) -> value
Value = float | Series


class UnsupportedExpression(ValueError):
    """The expression uses syntax or a function this evaluator does not model."""


TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+(?:\.\d*)?|\.\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>==|!=|<=|>=|&&|\|\||[-+*/^<>(),]))"
)
ARITHMETIC: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "^": operator.pow,
}
COMPARISON: dict[str, Callable[[float, float], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}
LOGICAL: dict[str, Callable[[bool, bool], bool]] = {"AND": operator.and_, "OR": operator.or_}
SPELLINGS = {"&&": "AND", "||": "OR"}
# lowest binding first; each level is left-associative
LEVELS: tuple[frozenset[str], ...] = (
    frozenset({"OR"}),
    frozenset({"AND"}),
    frozenset(COMPARISON),
    frozenset({"+", "-"}),
    frozenset({"*", "/"}),
    frozenset({"^"}),
)


def evaluate(expression: str, metrics: Mapping[str, Series], periods: Mapping[str, int]) -> Value:
    """The expression's value: a time series, or a scalar. `metrics` maps each metric id to its datapoints,
    `periods` each metric id to its period in seconds."""
    return _Parser(_tokens(expression), metrics, periods).parse()


def _tokens(expression: str) -> list[str]:
    tokens, position = [], 0
    while position < len(expression.rstrip()):
        match = TOKEN.match(expression, position)
        if match is None:
            raise UnsupportedExpression(f"cannot read {expression[position:]!r} in {expression!r}")
        token = match.group(match.lastgroup or "op")
        tokens.append(SPELLINGS.get(token, token))
        position = match.end()
    return tokens


@dataclass
class _Parser:
    tokens: list[str]
    metrics: Mapping[str, Series]
    periods: Mapping[str, int]
    position: int = 0

    def parse(self) -> Value:
        value = self._level(0)
        if self.position != len(self.tokens):
            raise UnsupportedExpression(f"unexpected {self.tokens[self.position]!r}")
        return value

    def _peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self, expected: str | None = None) -> str:
        token = self._peek()
        if token is None or (expected is not None and token != expected):
            raise UnsupportedExpression(f"expected {expected or 'more'}, found {token or 'the end'}")
        self.position += 1
        return token

    def _level(self, level: int) -> Value:
        if level == len(LEVELS):
            return self._unary()
        value = self._level(level + 1)
        while (token := self._peek()) in LEVELS[level]:
            self._take()
            value = _binary(str(token), value, self._level(level + 1))
        return value

    def _unary(self) -> Value:
        if self._peek() == "-":
            self._take()
            return _binary("*", -1.0, self._unary())
        return self._atom()

    def _atom(self) -> Value:
        token = self._take()
        if token == "(":
            value = self._level(0)
            self._take(")")
            return value
        if re.fullmatch(r"\d+(?:\.\d*)?|\.\d+", token):
            return float(token)
        if self._peek() == "(":
            return self._call(token)
        if token not in self.metrics:
            raise UnsupportedExpression(f"unknown id {token!r}")
        return dict(self.metrics[token])

    def _call(self, function: str) -> Value:
        self._take("(")
        if function == "PERIOD":
            metric = self._take()
            self._take(")")
            if metric not in self.periods:
                raise UnsupportedExpression(f"PERIOD takes a metric id, not {metric!r}")
            return float(self.periods[metric])
        if function != "IF":
            raise UnsupportedExpression(f"function {function} is not modelled locally")
        arguments = [self._level(0)]
        while self._peek() == ",":
            self._take()
            arguments.append(self._level(0))
        self._take(")")
        if len(arguments) not in (2, 3):
            raise UnsupportedExpression("IF takes a condition, a true value and an optional false value")
        return _if(*arguments)


def _binary(token: str, left: Value, right: Value) -> Value:
    if token in ARITHMETIC:
        return _combine(left, right, ARITHMETIC[token])
    if token in COMPARISON:
        compare = COMPARISON[token]
        return _combine(left, right, lambda a, b: float(compare(a, b)))
    logical = LOGICAL[token]
    return _combine(left, right, lambda a, b: float(logical(a != 0, b != 0)))


def _combine(left: Value, right: Value, function: Callable[[float, float], float]) -> Value:
    if isinstance(left, float) and isinstance(right, float):
        return _apply(function, left, right) if _defined(function, right) else math.nan
    stamps = sorted(set(_stamps(left)) | set(_stamps(right)))
    result: Series = {}
    for stamp in stamps:
        a, b = _at(left, stamp), _at(right, stamp)  # a value missing from a series is 0
        if _defined(function, b):
            result[stamp] = _apply(function, a, b)
    return result


def _defined(function: Callable[[float, float], float], divisor: float) -> bool:
    return not (function is operator.truediv and divisor == 0)  # a division by zero drops the point


def _apply(function: Callable[[float, float], float], a: float, b: float) -> float:
    return float(function(a, b))


def _stamps(value: Value) -> list[float]:
    return list(value) if isinstance(value, dict) else []


def _at(value: Value, stamp: float) -> float:
    return value.get(stamp, 0.0) if isinstance(value, dict) else value


def _if(condition: Value, when_true: Value, when_false: Value | None = None) -> Value:
    if isinstance(condition, float):
        chosen = when_true if condition != 0 else when_false
        return {} if chosen is None else chosen
    result: Series = {}
    for stamp, holds in condition.items():
        if holds != 0:
            result[stamp] = _at(when_true, stamp)  # a true point without a true value is 0
        elif isinstance(when_false, float):
            result[stamp] = when_false
        elif isinstance(when_false, dict) and stamp in when_false:
            result[stamp] = when_false[stamp]
    return result
