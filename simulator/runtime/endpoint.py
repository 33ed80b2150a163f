"""Where the engine's HTTP requests go: one method, a recording mock and a real client beside it.

An endpoint answers the tracker's batch POSTs. Runtimes record what it accepted in the run log,
so delivery and loss are counted, not guessed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from engine.ops import Http

#: The answers to an accepted and a refused batch. The engine reads only the status code, so one
#: response serves every request: building an httpx.Response costs more than the call that sent it.
ACCEPTED = httpx.Response(200)
REFUSED = httpx.Response(500)


class Endpoint(Protocol):
    def handle(self, post: Http) -> httpx.Response: ...


@dataclass
class RecordingEndpoint:
    """Answers 200 and records the batch, unless told to fail (`fail_next` statuses, then 200).

    Duplicates (a batch sent again after an answer was lost) are recorded once per event id and
    counted.
    """

    fail_next: list[int] = field(default_factory=list)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    duplicates: int = 0
    requests: int = 0

    def accept(self, body: dict[str, Any]) -> list[str]:
        """Record the events of a batch body; answer the ids not seen before."""
        new: list[str] = []
        for event in body["events"]:
            if event["eventId"] in self.events:
                self.duplicates += 1
            else:
                self.events[event["eventId"]] = event
                new.append(event["eventId"])
        return new

    def handle(self, post: Http) -> httpx.Response:
        """Answer the POST; an accepted body is read as the engine built it, without encoding it."""
        self.requests += 1
        if self.fail_next:
            return httpx.Response(self.fail_next.pop(0), request=post.request)
        self.accept(post.json)
        return ACCEPTED

    def types(self) -> Counter[str]:
        return Counter(e["type"] for e in self.events.values())


@dataclass
class HttpxEndpoint:
    """Sends the tracker's requests for real through an `httpx.Client` (a live endpoint, or respx)."""

    client: httpx.Client

    def handle(self, post: Http) -> httpx.Response:
        response = self.client.send(post.request)
        response.read()
        return response
