"""A probe Region's results into the home Region's CloudWatch: one PutMetricData, all of it before a deadline.

CloudWatch alarms cannot watch a metric in another Region ("Cross-Region functionality is not supported for
alarms", https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Cross-Account-Cross-Region.html), and EMF
lands in the function's own Region, so a probe stack puts its datums into the home Region's endpoint.

boto3 serializes and signs the request (SigV4 for the home Region, the function's role); the bytes go out through
lambdas/shared/deadline_http.py, so connect, TLS, sending and the answer all end by the deadline (botocore's
timeouts are per socket read). botocore's `before-send` event exists for this: "allows a response to be returned
that fulfills the request" (https://docs.aws.amazon.com/botocore/latest/topics/events.html). One attempt: the next
run is a period away, and the alarms' M of N forgive one lost run.

boto3 is imported by the first put (about 100 ms plus 40 ms for the client): the home monitor never pays it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from lambdas.shared import deadline_http
from lambdas.shared.deadline_http import Deadline

if TYPE_CHECKING:
    from botocore.awsrequest import AWSPreparedRequest, AWSResponse

# Headers deadline_http writes itself (from the URL and the body).
_OWN_HEADERS = frozenset({"host", "content-length"})


class _Answer:
    """What botocore reads an AWSResponse's body from (`raw.stream()`)."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_kwargs: Any) -> Iterator[bytes]:
        yield self._body


class HomeRegionClient:
    """A CloudWatch client for the home Region whose requests end by the deadline of the current put."""

    def __init__(self, region: str) -> None:
        import boto3  # noqa: PLC0415 - see the module docstring
        from botocore.config import Config  # noqa: PLC0415

        # A session of its own: the default session would keep these credentials for every other client.
        session = boto3.session.Session()
        self.client = session.client("cloudwatch", region_name=region, config=Config(retries={"total_max_attempts": 1}))
        self._deadline: Deadline | None = None
        self.client.meta.events.register_first("before-send.cloudwatch.PutMetricData", self._send)

    def put(self, namespace: str, metric_data: Sequence[dict[str, Any]], *, deadline: Deadline) -> None:
        """Raises what the put raised: botocore's ClientError/BotoCoreError, or a deadline_http transport error."""
        self._deadline = deadline
        try:
            self.client.put_metric_data(Namespace=namespace, MetricData=list(metric_data))
        finally:
            self._deadline = None

    def _send(self, request: AWSPreparedRequest, **_kwargs: Any) -> AWSResponse:
        from botocore.awsrequest import AWSResponse  # noqa: PLC0415

        if self._deadline is None:
            raise RuntimeError("a request outside put(): it would have no deadline")
        body = request.body
        if isinstance(body, str):
            body = body.encode()
        if not isinstance(body, bytes | None):
            raise TypeError(f"PutMetricData with a {type(body).__name__} body is not expected")
        headers = {
            name: value.decode("latin-1") if isinstance(value, bytes) else str(value)
            for name, value in request.headers.items()
            if name.lower() not in _OWN_HEADERS
        }
        answer = deadline_http.request(
            request.method, request.url, body=body or b"", headers=headers, deadline=self._deadline
        )
        return AWSResponse(request.url, answer.status, dict(answer.headers), _Answer(answer.body))


@functools.cache
def home_region_client(region: str) -> HomeRegionClient:
    """One client per process (a warm Lambda keeps it: the service model is parsed once)."""
    return HomeRegionClient(region)
