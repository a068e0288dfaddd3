"""Call-back requests (回电登记): a caller who would rather not wait asks to be called back.

The IVR only records the request; the callback dialer (``callback_dialer/``) persists and
schedules it as an outbound task. ``RedisCallbackRequests`` appends to the Redis stream
``minhu:callbacks`` (XADD, no trimming), so a request survives until the dialer's consumer group
has read and acknowledged it, even if the dialer is down when the caller hangs up.

Stream entry fields (all strings, UTF-8; the dialer's intake reads ``caller`` and
``requested_at``, and ``order_number`` when there is one — the IVR never sends one, since a
number keyed on the phone may be another citizen's order)::

    v            "1"
    caller       the number to call back (the caller's CALLERID(num), in full)
    requested_at ISO 8601 with offset (the IVR's clock)
    topic        what the caller chose: consultation, suggestion, after_hours, overflow ...
    call_id      Asterisk's Uniqueid of the call (agi_uniqueid)
    did          the number the caller dialled (12345, 037112345 ...)
    estimated_wait_s  the estimated queue wait that prompted the offer ("" when none)
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Protocol

import redis.asyncio as aioredis

CALLBACK_STREAM: Final = "minhu:callbacks"
STREAM_VERSION: Final = "1"


@dataclass(frozen=True, slots=True)
class CallbackRequest:
    caller: str
    requested_at: datetime
    topic: str
    call_id: str
    did: str = ""
    estimated_wait_s: float | None = None

    def to_fields(self) -> dict[str, str]:
        return {
            "v": STREAM_VERSION,
            "caller": self.caller,
            "requested_at": self.requested_at.isoformat(),
            "topic": self.topic,
            "call_id": self.call_id,
            "did": self.did,
            "estimated_wait_s": "" if self.estimated_wait_s is None else f"{self.estimated_wait_s:g}",
        }

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> CallbackRequest:
        wait = fields.get("estimated_wait_s", "")
        return cls(
            caller=fields["caller"],
            requested_at=datetime.fromisoformat(fields["requested_at"]),
            topic=fields.get("topic", ""),
            call_id=fields.get("call_id", ""),
            did=fields.get("did", ""),
            estimated_wait_s=float(wait) if wait else None,
        )


class CallbackRequests(Protocol):
    async def record(self, request: CallbackRequest) -> str:
        """Store ``request`` durably; return its id. Raises when it could not be stored."""
        ...


class InMemoryCallbackRequests:
    """For tests and the demo: the requests in a list."""

    def __init__(self) -> None:
        self.requests: list[CallbackRequest] = []
        self.recorded = asyncio.Event()

    async def record(self, request: CallbackRequest) -> str:
        self.requests.append(request)
        self.recorded.set()
        return str(len(self.requests))


class RedisCallbackRequests:
    """XADD to ``stream`` (default ``minhu:callbacks``); the id is the stream entry's id."""

    def __init__(
        self, client: aioredis.Redis, *, stream: str = CALLBACK_STREAM, timeout_s: float = 2.0
    ) -> None:
        self._client = client
        self.stream = stream
        self._timeout = timeout_s

    async def record(self, request: CallbackRequest) -> str:
        fields = request.to_fields()
        async with asyncio.timeout(self._timeout):
            entry_id = await self._client.xadd(self.stream, dict(fields.items()))
        return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
