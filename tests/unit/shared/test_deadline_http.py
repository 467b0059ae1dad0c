"""lambdas/shared/deadline_http.py against a real loopback socket: what a failed answer leaves behind."""

from __future__ import annotations

import http.client
import socket

import pytest

from lambdas.shared.deadline_http import Deadline, request


def test_an_answer_that_never_comes_is_closed_with_its_socket() -> None:
    # Given a server that accepts the connection and never answers
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        # When a request waits for its answer until the deadline
        with pytest.raises(TimeoutError) as raised:
            request("POST", f"http://127.0.0.1:{silent.getsockname()[1]}/", body=b"{}", headers={},
                    deadline=Deadline.after(0.2))  # fmt: skip
    # Then the half-read response in the traceback (a log record keeps it as exc_info) is closed. Left open, its
    # finalizer flushes a reader the garbage collector may have closed first: "ValueError: I/O operation on
    # closed file", ignored in HTTPResponse, seen when a probe's put into the home Region timed out.
    responses = [
        value
        for entry in raised.traceback
        for value in entry.frame.f_locals.values()
        if isinstance(value, http.client.HTTPResponse)
    ]
    assert responses
    assert all(response.fp is None for response in responses)
