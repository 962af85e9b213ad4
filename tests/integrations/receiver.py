"""A department's webhook receiver for the tests and the benchmark: a real HTTP server on
127.0.0.1 (a thread, a port of its own) that checks every delivery with the `standardwebhooks`
library as a department's system would, de-duplicates by `webhook-id`, and records the order in
which each case's events arrived. It can be switched into the faults a real endpoint has:

- `down`: nothing listens on the port (the socket is closed; a connection is refused);
- `error`: every request is answered 500 and nothing is kept;
- `timeout`: a delivery is taken, then answered only after `delay` seconds (longer than the
  sender's timeout), so the sender sees a timeout and sends it again;
- `slow`: a delivery is taken and answered 2xx after `delay` seconds (shorter than the timeout);
- `ok`: taken and answered 204 at once.

Plain helpers, no fixtures (those are in tests/fixtures.py). Thread-safe: the server answers
each request in a thread of its own. `MockReceiver` is the in-process stand-in of the sender's
unit tests (an `httpx.MockTransport`, no socket); `LocalReceiver` the bare recording handler of
the `local_receiver` fixture.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
from standardwebhooks import Webhook, WebhookVerificationError

MODES = ("ok", "down", "error", "timeout", "slow")


@dataclass(frozen=True)
class Received:
    """One request as it came: the raw body and headers, so a test can verify or send it again."""

    body: bytes
    headers: dict[str, str]
    at: float  # time.perf_counter() when it was taken

    @property
    def message_id(self) -> str:
        return self.headers.get("webhook-id", "")

    def payload(self) -> dict:
        return json.loads(self.body)


@dataclass
class _State:
    mode: str = "ok"
    delay: float = 0.0
    requests: int = 0  # every request that reached the server, refused or not
    answered_error: int = 0
    refused: list[str] = field(default_factory=list)  # why the library refused each one
    accepted: dict[str, Received] = field(default_factory=dict)  # by webhook-id, the first
    duplicates: int = 0
    order: list[tuple[str, int]] = field(default_factory=list)  # (case, sequence) as accepted
    unordered: list[str] = field(default_factory=list)  # a case's sequence that went backwards


class Receiver:
    """The receiver; `secret` is the `whsec_...` the department was given (it may change: a
    department that switched to a rotated secret sets the new one)."""

    path = "/webhooks/portal"

    def __init__(self, secret: str = "", *, host: str = "127.0.0.1") -> None:
        self.secret = secret
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._state = _State()
        self._closing = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.host = host
        self.port = 0
        self._listen()

    # --- Serving ---------------------------------------------------------------------------

    def _listen(self) -> None:
        server = ThreadingHTTPServer((self.host, self.port), _handler_for(self))
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def _stop_listening(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{self.path}"

    def set_mode(self, mode: str, *, delay: float = 0.0) -> None:
        """Switch to a mode; `down` closes the listening socket, any other mode listens again
        on the same port (a delivery must reach the same URL once the receiver is back)."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        with self._lock:
            self._state.mode = mode
            self._state.delay = delay
        if mode == "down" and self._server is not None:
            self._stop_listening()
        elif mode != "down" and self._server is None:
            self._listen()

    def close(self) -> None:
        self._closing.set()  # requests held back (timeout, slow) answer at once
        self._stop_listening()

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- What a department's system does with a request -------------------------------------

    def verify(self, body: bytes, headers: dict[str, str], secret: str | None = None) -> dict:
        """The library's check (signature, and a timestamp within five minutes); raises
        `WebhookVerificationError` when it refuses."""
        return Webhook(secret if secret is not None else self.secret).verify(body, headers)

    def _handle(self, body: bytes, headers: dict[str, str]) -> tuple[int, float]:
        """Record the request; returns (status, seconds to wait before answering)."""
        with self._changed:
            state = self._state
            state.requests += 1
            mode, delay = state.mode, state.delay
            if mode == "error":
                state.answered_error += 1
                self._changed.notify_all()
                return 500, 0.0
            try:
                payload = self.verify(body, headers)
            except WebhookVerificationError as error:
                state.refused.append(str(error))
                self._changed.notify_all()
                return 401, 0.0
            received = Received(body, dict(headers), time.perf_counter())
            if received.message_id in state.accepted:
                state.duplicates += 1
            else:
                state.accepted[received.message_id] = received
                data = payload.get("data", {})
                case, sequence = str(data.get("case")), int(data.get("sequence", 0))
                earlier = [s for c, s in state.order if c == case]
                if earlier and sequence <= max(earlier):
                    state.unordered.append(f"{case}: {sequence} after {max(earlier)}")
                state.order.append((case, sequence))
            self._changed.notify_all()
        return 204, delay if mode in ("timeout", "slow") else 0.0

    # --- Reading what arrived -----------------------------------------------------------------

    def snapshot(self) -> dict:
        """A consistent copy of what the receiver has seen."""
        with self._lock:
            state = self._state
            return {
                "mode": state.mode,
                "requests": state.requests,
                "answered_error": state.answered_error,
                "refused": list(state.refused),
                "accepted": dict(state.accepted),
                "duplicates": state.duplicates,
                "order": list(state.order),
                "unordered": list(state.unordered),
            }

    @property
    def accepted(self) -> dict[str, Received]:
        return self.snapshot()["accepted"]

    @property
    def requests(self) -> int:
        with self._lock:
            return self._state.requests

    def count(self) -> int:
        """Distinct deliveries taken (after de-duplication by `webhook-id`)."""
        with self._lock:
            return len(self._state.accepted)

    def sequences(self) -> dict[str, list[int]]:
        """Each case's sequence numbers in the order they were first taken."""
        found: dict[str, list[int]] = {}
        for case, sequence in self.snapshot()["order"]:
            found.setdefault(case, []).append(sequence)
        return found

    def events(self) -> dict[str, list[str]]:
        """Each case's event types in the order they were first taken."""
        found: dict[str, list[str]] = {}
        for received in sorted(self.accepted.values(), key=lambda r: r.at):
            payload = received.payload()
            found.setdefault(str(payload["data"]["case"]), []).append(payload["type"])
        return found

    def wait_until(self, count: int, timeout: float = 60, diagnostics=None) -> dict:
        """Until at least `count` distinct deliveries were taken (tests.support.wait_for)."""
        from tests.support import wait_for

        wait_for(lambda: self.count() >= count, timeout=timeout, diagnostics=diagnostics)
        return self.snapshot()

    def wait_for_count(self, count: int, timeout: float = 60) -> float:
        """Like `wait_until`, without pytest (the benchmark): blocks on the receiver's condition
        instead of polling; returns the perf_counter of the count-th delivery taken."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._state.accepted) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"{len(self._state.accepted)} of {count} deliveries in {timeout}s"
                    )
                self._changed.wait(left)
            return sorted(r.at for r in self._state.accepted.values())[count - 1]

    def arrival(self, message_id: str, timeout: float = 60) -> float:
        """Blocks until the delivery with this `webhook-id` was taken; its perf_counter."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while message_id not in self._state.accepted:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{message_id} not delivered in {timeout}s")
                self._changed.wait(left)
            return self._state.accepted[message_id].at

    def post(self, body: bytes, headers: dict[str, str], timeout: float = 10) -> int:
        """Send a request to the receiver as anyone could (a forged or replayed delivery);
        returns the status it answers."""
        import http.client

        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            headers = {"Content-Type": "application/json", **headers}
            conn.request("POST", self.path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()


def _handler_for(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, delay = receiver._handle(body, headers)
            if delay:
                receiver._closing.wait(delay)
            with contextlib.suppress(OSError):  # the sender gave up waiting (timeout)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: the tests read the receiver's records, not its log

    return Handler


class MockReceiver:
    """A department system's endpoint for the sender's unit tests: an `httpx.MockTransport`
    that records every request and answers what the test says (only the external endpoint is
    replaced)."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.answer: Callable[[httpx.Request], httpx.Response] = lambda r: httpx.Response(204)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answer(request)
        # Streamed as a socket's answer is (a `content=` answer is read at once, and the sender
        # reads the raw stream).
        return httpx.Response(
            answer.status_code, headers=answer.headers, content=iter([answer.content])
        )

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle), follow_redirects=False)

    def bodies(self) -> list[dict]:
        return [json.loads(r.content) for r in self.requests]

    def events(self) -> list[tuple[str, str, int]]:
        """(type, case, sequence) of each request, in order."""
        return [(b["type"], b["data"]["case"], b["data"]["sequence"]) for b in self.bodies()]


class LocalReceiver(BaseHTTPRequestHandler):
    """A real HTTP receiver on 127.0.0.1 (`local_receiver`): records (path, headers, body);
    `/moved` answers a redirect, anything else 200 with a 600-character body."""

    protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver
    disable_nagle_algorithm = True  # headers and body are two writes
    received: list[tuple[str, dict, bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        type(self).received.append((self.path, dict(self.headers), body))
        if self.path == "/moved":
            self.send_response(307)
            self.send_header("location", "/hooks")
        else:
            self.send_response(200)
        text = b"thanks" * 100
        self.send_header("content-length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def log_message(self, *args) -> None:
        pass
