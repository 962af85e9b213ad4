"""A department system's endpoint for the webhook tests: an `httpx.MockTransport` that records
every request and answers what the test says (only the external endpoint is replaced)."""

from __future__ import annotations

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
