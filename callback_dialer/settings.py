"""The dialer's own settings (pacing, leases, timeouts). The rules' numbers (calling hours, gap,
window, per-order and per-citizen daily caps, calls on non-working days) are not here: they come
from the policy profile."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pbx import dialplan_names as names

if TYPE_CHECKING:
    from minhu.settings import Settings


@dataclass(frozen=True, slots=True)
class DialerSettings:
    """Built once in the dialer's entry point and passed down."""

    redis_prefix: str = "minhu:dialer"
    callbacks_stream: str = "minhu:callbacks"
    callbacks_group: str = "minhu-dialer"

    # pacing
    max_channels: int = 30
    """Simultaneous outbound calls of this dialer."""
    calls_per_minute: int = 120
    """Centre-wide cap on new calls (a token bucket in Redis shared by every dialer)."""
    bucket_burst: int = 10
    inbound_waiting_threshold: int = 3
    """Back off while more than this many citizens wait in the inbound queue."""

    # the claim, the lease, the job
    batch_size: int = 100
    lease_seconds: float = 600.0
    """How long a claimed task stays leased (business-clock seconds) without renewal."""
    citizen_lock_seconds: float = 900.0
    """TTL of a citizen's lock (real seconds): longer than any job."""
    busy_citizen_delay_seconds: float = 300.0
    """When a citizen is being called for another order, look again this much later."""
    ring_timeout: float = 45.0
    """Seconds the citizen's phone rings before it counts as rung out (未接听至自动挂断)."""
    survey_timeout: float = 300.0
    job_timeout: float = 420.0
    """A timeout per job: originate + survey (real seconds)."""
    drain_timeout: float = 60.0
    """On a clean stop (SIGTERM), how long calls in progress may finish (real seconds); the rest
    are cancelled and their leases expire: the next dialer resolves them like after a crash."""
    poll_interval: float = 1.0
    intake_interval: float = 30.0
    """Seconds between two looks for replied orders without a task (real seconds)."""
    callbacks_interval: float = 1.0
    """Seconds between two reads of the IVR's call-back requests (real seconds)."""
    health_ttl: float = 30.0
    caller_id: str = names.HOTLINE_NUMBER
    dial_context: str = names.DIAL_CITIZEN_CONTEXT
    survey_context: str = names.SURVEY_CONTEXT
    survey_result_ttl: int = 3 * 24 * 3600


def dialer_settings(settings: Settings) -> DialerSettings:
    """The dialer's settings from the process's ``MINHU_DIALER_*`` settings (the rest default)."""
    return DialerSettings(
        redis_prefix=settings.dialer_redis_prefix,
        max_channels=settings.dialer_max_channels,
        calls_per_minute=settings.dialer_calls_per_minute,
        inbound_waiting_threshold=settings.dialer_inbound_waiting_threshold,
        intake_interval=settings.dialer_replied_poll_seconds,
        drain_timeout=settings.dialer_drain_seconds,
    )
