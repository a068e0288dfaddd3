"""The dialer's process (``minhu dialer run``): wiring from settings, the intake loop, reconcile at
start, a clean stop with a drain deadline, SIGTERM. Against the simulated PBX with the survey on
the IVR's server, real Redis and an injected clock."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from dataclasses import replace
from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from callback_dialer.process import DialerProcess, build_process, serve
from callback_dialer.settings import DialerSettings, dialer_settings
from minhu.cli import app
from minhu.db.engine import create_engine
from minhu.db.migrate import upgrade
from minhu.settings import Settings
from pbx.simulator.citizen import Press
from pbx.simulator.scenarios import RingsOut
from workorders.enums import OrderState, Satisfaction

from .conftest import REDIS_URL, Rig, at
from .test_crash_race_pacing import eventually
from .test_revisit_calls import CHOICE_AT, CONFIRM_AT, PHONE, answers

pytestmark = pytest.mark.db

WITHIN = 30.0  # generous polling limit; nothing here is a timing assertion


def process_of(rig: Rig, worker: str = "proc-a", **overrides: object) -> DialerProcess:
    settings = replace(rig.settings, callbacks_interval=0.02, **overrides)  # type: ignore[arg-type]
    process = build_process(
        settings,
        redis=rig.redis,
        ami=rig.ami,
        sessions=rig.sessions,
        clock=rig.clock,
        policy=rig.policy,
        calendars=rig.calendars,
        worker=worker,
    )
    return process


def test_the_dialer_settings_come_from_minhu_dialer_settings() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        dialer_redis_prefix="city:dialer",
        dialer_max_channels=60,
        dialer_calls_per_minute=300,
        dialer_inbound_waiting_threshold=0,
        dialer_replied_poll_seconds=15,
        dialer_drain_seconds=20,
    )
    built = dialer_settings(settings)
    assert (built.redis_prefix, built.max_channels, built.calls_per_minute) == ("city:dialer", 60, 300)
    assert (built.inbound_waiting_threshold, built.intake_interval, built.drain_timeout) == (0, 15, 20)
    assert built.ring_timeout == DialerSettings().ring_timeout  # the rest keep their defaults


def test_the_command_is_bilingual_and_refuses_to_run_without_a_pbx(monkeypatch: pytest.MonkeyPatch) -> None:
    # the command's logging set-up would outlive the test (a closed stream, cached loggers)
    monkeypatch.setattr("minhu.cli.configure_logging", lambda *args, **kwargs: None)
    runner = CliRunner()
    assert "dialer" in runner.invoke(app, ["--help"]).output
    help_text = runner.invoke(app, ["dialer", "run", "--help"]).output
    assert "回访外呼" in help_text and "revisit dialer" in help_text
    monkeypatch.delenv("MINHU_AMI_HOST", raising=False)
    monkeypatch.setenv("MINHU_LOG_LEVEL", "WARNING")
    refused = runner.invoke(app, ["dialer", "run"])
    assert refused.exit_code == 2
    assert "MINHU_AMI_HOST" in refused.output


async def test_the_process_reconciles_takes_replies_and_callbacks_dials_and_stops_cleanly(rig: Rig) -> None:
    answered = await rig.replied_order(PHONE, at("2026-11-24 09:00"))
    other = await rig.replied_order("13698765432", at("2026-11-24 09:00"))
    # a task Redis lost (Redis restarted empty) comes back at start
    await rig.intake().poll_replied()
    lost = await rig.task_of(other)
    await rig.redis.zrem(rig.keys.due, str(lost.id))
    await rig.redis.delete(rig.keys.task(lost.id))
    later = await rig.replied_order("13512345678", at("2026-11-24 09:00"))  # found by the poller
    rig.behave(
        (PHONE, answers(Press("1", at=CHOICE_AT), Press("1", at=CONFIRM_AT))),
        ("13698765432", RingsOut()),
        ("13512345678", RingsOut()),
    )
    await rig.redis.xadd(
        rig.settings.callbacks_stream,
        {"order_number": answered, "caller": PHONE, "requested_at": "2026-11-24T08:59:00+08:00"},
    )
    stop = asyncio.Event()
    process = process_of(rig)
    running = asyncio.create_task(process.run(stop))

    async def settled() -> bool:
        order = await rig.order(answered)
        return (
            order.state is OrderState.CLOSED
            and rig.dials_to("13698765432") == 1
            and (rig.dials_to("13512345678") == 1)
        )

    await eventually(settled, WITHIN, "three calls placed, the answered one closed")
    assert (await rig.order(answered)).satisfaction is Satisfaction.SATISFIED
    assert (await rig.task_of(answered)).callback_requested_at == at("2026-11-24 08:59")
    assert (await rig.task_of(later)).state == "scheduled"
    health = json.loads(await rig.redis.get(rig.keys.health("proc-a")) or "{}")
    assert health["at"] == rig.clock.now().isoformat()

    stop.set()
    async with asyncio.timeout(WITHIN):
        await running
    assert process.dialer.in_flight == 0
    assert await rig.redis.xpending(rig.settings.callbacks_stream, rig.settings.callbacks_group) == {
        "pending": 0,
        "min": None,
        "max": None,
        "consumers": [],
    }


async def test_a_stop_drains_within_the_deadline_then_cancels_and_the_lease_is_left_to_expire(
    rig: Rig,
) -> None:
    number = await rig.replied_order(PHONE, at("2026-11-24 09:00"))
    rig.behave((PHONE, RingsOut()))
    stop = asyncio.Event()
    # rings for 600 s of call time (3 s real at this scale): longer than the drain deadline
    process = process_of(rig, "proc-b", ring_timeout=600.0, drain_timeout=0.05)
    running = asyncio.create_task(process.run(stop))
    await eventually(lambda: rig.dials_to(PHONE) == 1, WITHIN, "the citizen's phone rings")
    stop.set()
    async with asyncio.timeout(WITHIN):
        await running
    assert process.dialer.in_flight == 0
    task = await rig.task_of(number)
    assert task.in_flight_attempt is not None  # the call was cut off the dialer, not forgotten
    # still leased by the stopped dialer: the next one resolves the call when the lease expires
    assert await process.dialer.schedule.owner(task.id) == "proc-b"


async def test_given_the_pbx_link_down_then_the_dialer_places_no_calls(rig: Rig) -> None:
    await rig.replied_order(PHONE, at("2026-11-24 09:00"))
    await rig.intake().poll_replied()
    ami = await rig.new_ami()
    await ami.stop()
    dialer = rig.dialer("dialer-down", ami=ami)
    assert await rig.step(dialer) == 0
    assert rig.dials_to(PHONE) == 0
    assert await rig.redis.ttl(rig.keys.health("dialer-down")) > 0  # alive, but not dialling


async def test_serve_builds_from_settings_and_stops_on_sigterm(rig: Rig, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/dialer.db"
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=url,
        redis_url=REDIS_URL,
        ami_host="127.0.0.1",
        ami_port=rig.ami_port,
        ami_username="hotline",
        ami_secret=SecretStr("hotline-secret"),
        dialer_redis_prefix=rig.settings.redis_prefix,
        dialer_drain_seconds=5,
        log_level="WARNING",
    )
    running = asyncio.create_task(serve(settings, clock=rig.clock, worker="proc-serve"))
    await eventually(
        lambda: rig.redis.exists(rig.keys.health("proc-serve")), WITHIN, "the dialer's health key"
    )
    health = json.loads(await rig.redis.get(rig.keys.health("proc-serve")) or "{}")
    assert health["at"] == rig.clock.now().isoformat()  # the injected clock
    os.kill(os.getpid(), signal.SIGTERM)
    async with asyncio.timeout(WITHIN):
        await running
    assert running.done() and running.exception() is None  # a clean exit, not a crash
