"""A department system's endpoint for the webhook tests: an `httpx.MockTransport` that records
every request and answers what the test says (only the external endpoint is replaced)."""

from __future__ import annotations

import http.server
import json
from collections.abc import Callable

import httpx


class Receiver:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.answer: Callable[[httpx.Request], httpx.Response] = lambda r: httpx.Response(204)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer(request)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle), follow_redirects=False)

    def bodies(self) -> list[dict]:
        return [json.loads(r.content) for r in self.requests]

    def events(self) -> list[tuple[str, str, int]]:
        """(type, case, sequence) of each request, in order."""
        return [(b["type"], b["data"]["case"], b["data"]["sequence"]) for b in self.bodies()]


class LocalReceiver(http.server.BaseHTTPRequestHandler):
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
