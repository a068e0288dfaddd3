"""Screen-pop latency (来电弹屏): a call offered to an agent on the AMI socket → the ``screen_pop``
message on that agent's desktop websocket, with 200 agents connected and 50 calls a second.

Three processes besides this one, on loopback, so that none measures itself:

1. the PBX: the simulator (``AmiSimulator``, live scenario) with 200 agents in the queue
   (``PJSIP/2000`` … as ``bench000`` …) who answer at once (see ``ANSWER_S``); citizens dial in at 50 per
   second for ``SECONDS`` and hang up after ``TALK_S``. The moment each ``AgentCalled`` event is
   written to the AMI sessions is the call's offer time;
2. the API: ``uvicorn agent_desktop.app:create_app_from_env`` (one worker, its PBX runtime
   following the simulator, publishing on Redis, the hub pushing to the websockets), on a fresh
   SQLite database with the 200 agents and an order history for a tenth of the callers (the
   screen pop reads it);
3. the desktops: 200 asyncio websocket clients, authenticated like the page, stamping each
   ``screen_pop`` on arrival.

All stamps are ``time.monotonic()`` (CLOCK_MONOTONIC: one clock for every process of the machine).
Latency = arrival − offer, matched by (agent, linkedid). Figures: ``screen_pop_p50_ms``,
``screen_pop_p99_ms`` (target p99 < 100 ms), plus the count of pops and of offers never popped.

Knobs: ``MINHU_BENCH_SCREENPOP_SECONDS`` (default 20), ``MINHU_BENCH_SCREENPOP_RATE`` (50),
``MINHU_BENCH_SCREENPOP_AGENTS`` (200), ``MINHU_BENCH_REDIS_URL`` (redis://127.0.0.1:6379/14),
``MINHU_BENCH_SCREENPOP_DEBUG=1`` (what the desktops saw of offers that never popped).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
JWT_SECRET = "minhu-bench-jwt-secret-0123456789abcdefghijklmnopqrstuvwxyz"
TIME_SCALE = 0.05
ANSWER_S = 0.0
"""Agents answer at once: the simulator's queue offers a call to one member at a time (the head
caller only, no ``autofill``), so ringing agents would cap it at one call per ring time and the
callers behind would abandon. The screen pop still starts at the offer (the agent's channel and
``AgentCalled``), before ``AgentConnect``."""
TALK_S = 40.0  # call time from dialling to hang-up: 2 s
FIRST_EXTENSION = 2000
DEBUG = bool(os.environ.get("MINHU_BENCH_SCREENPOP_DEBUG"))


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.isdigit() else default


def _say(message: str) -> None:
    print(f"[screen-pop] {message}", file=sys.stderr, flush=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _username(i: int) -> str:
    return f"bench{i:03d}"


def _caller(i: int) -> str:
    return f"139{i:08d}"


# --- 1. the PBX --------------------------------------------------------------------------------


def _pbx_process(agents: int, rate: int, seconds: float, conn: Any) -> None:
    asyncio.run(_pbx(agents, rate, seconds, conn))


async def _pbx(agents: int, rate: int, seconds: float, conn: Any) -> None:
    from pbx.simulator.citizen import Citizen, HangUp
    from pbx.simulator.scenarios import Answers, InboundCall, MemberSpec, Scenario
    from pbx.simulator.server import AmiSimulator, SimulatorSettings

    members = tuple(MemberSpec(f"PJSIP/{FIRST_EXTENSION + i}", _username(i)) for i in range(agents))
    scenario = Scenario(members=members, default_behaviour=Answers(after=ANSWER_S), queue_ring_timeout=60.0)
    simulator = AmiSimulator(
        None, SimulatorSettings(time_scale=TIME_SCALE, restart_delay=0.0), scenario=scenario
    )
    offers: list[tuple[str, str, float]] = []
    publish = simulator.world.publish

    def stamped(message: Any) -> None:
        publish(message)  # written to every AMI session's socket buffer
        if message.get("Event") == "AgentCalled":
            offers.append((message.value("MemberName"), message.value("Linkedid"), time.monotonic()))

    simulator.world.publish = stamped
    port = await simulator.start()
    conn.send(port)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, conn.recv)  # "go"
    start = loop.time()
    total = int(rate * seconds)
    rng = random.Random(7)
    for n in range(total):
        delay = start + n / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        number = _caller(rng.randrange(agents * 50))
        simulator.engine.dial_in(InboundCall(Citizen.scripted(HangUp(at=TALK_S), number=number, name="市民")))
    await asyncio.sleep(TALK_S * TIME_SCALE + 2.0)
    conn.send(offers)
    await loop.run_in_executor(None, conn.recv)  # "stop"
    await simulator.stop()


# --- 3. the desktops ---------------------------------------------------------------------------


def _clients_process(base: str, tokens: list[tuple[str, str]], conn: Any) -> None:
    asyncio.run(_clients(base, tokens, conn))


async def _clients(base: str, tokens: list[tuple[str, str]], conn: Any) -> None:
    from websockets.asyncio.client import connect

    pops: list[tuple[str, str, float]] = []
    ready = 0
    stop = asyncio.Event()

    async def desktop(username: str, token: str) -> None:
        nonlocal ready
        async with connect(
            base.replace("http://", "ws://") + "/ws/agent", open_timeout=30, max_size=None
        ) as ws:
            await ws.send(json.dumps({"type": "auth", "token": token}))
            hello = json.loads(await ws.recv())
            assert hello["type"] == "hello", hello
            ready += 1
            reader = asyncio.ensure_future(_read(ws, username))
            await stop.wait()
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader

    async def _read(ws: Any, username: str) -> None:
        async for text in ws:
            at = time.monotonic()
            if text.startswith('{"type":"screen_pop"'):
                message = json.loads(text)
                pops.append((username, message["call"]["linkedid"], at))
            elif DEBUG and text.startswith('{"type":"call"'):
                message = json.loads(text)
                pops.append(("call:" + message["event"] + ":" + username, message["call"]["linkedid"], at))

    tasks = [asyncio.ensure_future(desktop(u, t)) for u, t in tokens]
    while ready < len(tokens):
        failed = [t for t in tasks if t.done() and t.exception() is not None]
        if failed:
            raise RuntimeError(f"desktop websocket failed: {failed[0].exception()!r}")
        await asyncio.sleep(0.05)
    conn.send(ready)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, conn.recv)  # "stop"
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    conn.send(pops)


# --- the database ------------------------------------------------------------------------------


async def _prepare_database(url: str, agents: int) -> list[tuple[int, str]]:
    """Migrate a fresh SQLite file; 200 agents; earlier orders for one caller in ten."""
    from sqlalchemy import insert

    from minhu.db.engine import create_engine
    from minhu.db.migrate import upgrade
    from minhu.db.models import User, WorkOrderRow
    from minhu.security import hash_password

    engine = create_engine(url)
    try:
        await upgrade(engine)
        now = datetime.now(UTC)
        password = hash_password("minhu-bench-2026")
        async with engine.begin() as conn:
            await conn.execute(
                insert(User),
                [
                    {
                        "username": _username(i),
                        "password_hash": password,
                        "role": "intake_agent",
                        "unit_id": None,
                        "display_name": f"坐席{i:03d}",
                        "phone": "",
                        "active": True,
                        "created_at": now,
                    }
                    for i in range(agents)
                ],
            )
            rows = (await conn.exec_driver_sql("SELECT id, username FROM users ORDER BY id")).all()
            orders = _earlier_orders(agents, now, [c.key for c in WorkOrderRow.__table__.columns])
            if orders:
                await conn.execute(insert(WorkOrderRow), orders)
        return [(int(r[0]), str(r[1])) for r in rows]
    finally:
        await engine.dispose()


def _earlier_orders(agents: int, now: datetime, columns: list[str]) -> list[dict[str, Any]]:
    """Two registered orders for every tenth caller number (the screen pop finds them)."""
    out = []
    n = 0
    for i in range(0, agents * 50, 10):
        for _ in range(2):
            n += 1
            row: dict[str, Any] = {
                "number": f"20260101-{n:06d}",
                "channel": "phone",
                "kind": "complaint",
                "category": "B",
                "state": "registered",
                "content": "小区门口道路破损，请尽快修补。",
                "address": "新华区建设路",
                "citizen_name": "市民",
                "citizen_phone": _caller(i),
                "received_at": now - timedelta(days=3),
                "registered_at": now - timedelta(days=3),
                "registered_by": "bench000",
            }
            out.append({k: v for k, v in row.items() if k in columns})
    return out


def _token(user_id: int) -> str:
    from minhu.security import issue_token

    token, _ = issue_token(
        user_id=user_id,
        role="intake_agent",
        now=datetime.now(UTC),
        lifetime=timedelta(hours=2),
        secret=JWT_SECRET,
        algorithm="HS256",
    )
    return token


# --- the run -------------------------------------------------------------------------------------


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def run() -> dict[str, float]:
    agents = _env_int("MINHU_BENCH_SCREENPOP_AGENTS", 200)
    rate = _env_int("MINHU_BENCH_SCREENPOP_RATE", 50)
    seconds = float(_env_int("MINHU_BENCH_SCREENPOP_SECONDS", 20))
    redis_url = os.environ.get("MINHU_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    workdir = ROOT / "var"
    workdir.mkdir(exist_ok=True)
    db_file = workdir / "bench-screenpop.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_file}{suffix}").unlink(missing_ok=True)
    url = f"sqlite+aiosqlite:///{db_file}"
    _say(f"{agents} agents, {rate} calls/s for {seconds:.0f} s; database {db_file.name}")
    users = asyncio.run(_prepare_database(url, agents))

    ctx = mp.get_context("spawn")
    pbx_end, pbx_remote = ctx.Pipe()
    pbx = ctx.Process(target=_pbx_process, args=(agents, rate, seconds, pbx_remote), daemon=True)
    pbx.start()
    ami_port = pbx_end.recv()

    api_port = _free_port()
    base = f"http://127.0.0.1:{api_port}"
    env = {
        **os.environ,
        "MINHU_DATABASE_URL": url,
        "MINHU_JWT_SECRET": JWT_SECRET,
        "MINHU_ENVIRONMENT": "test",
        "MINHU_LOG_LEVEL": "WARNING",
        "MINHU_REDIS_URL": redis_url,
        "MINHU_AMI_HOST": "127.0.0.1",
        "MINHU_AMI_PORT": str(ami_port),
        "MINHU_AMI_USERNAME": "hotline",
        "MINHU_AMI_SECRET": "hotline-secret",
        "MINHU_PBX_REDIS_PREFIX": f"minhu-bench:{uuid.uuid4().hex[:8]}",
        "MINHU_AGENT_WRAPUP_SECONDS": "0",
    }
    log = (workdir / "bench-screenpop-api.log").open("w")
    api = subprocess.Popen(  # noqa: S603 - our own command line
        [
            sys.executable,
            "-m",
            "uvicorn",
            "agent_desktop.app:create_app_from_env",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(api_port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    clients: Any = None
    try:
        _wait_ready(base, api)
        time.sleep(1.0)  # the runtime signs in on AMI, takes the lead and loads the queue members
        tokens = [(username, _token(user_id)) for user_id, username in users]
        cl_end, cl_remote = ctx.Pipe()
        clients = ctx.Process(target=_clients_process, args=(base, tokens, cl_remote), daemon=True)
        clients.start()
        connected = cl_end.recv()
        _say(f"{connected} desktops connected; calls start")
        pbx_end.send("go")
        offers: list[tuple[str, str, float]] = pbx_end.recv()
        time.sleep(1.0)
        cl_end.send("stop")
        pops: list[tuple[str, str, float]] = cl_end.recv()
        pbx_end.send("stop")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(api.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            api.wait(10)
        if api.poll() is None:
            os.killpg(api.pid, signal.SIGKILL)
        log.close()
        for process in (pbx, clients):
            if process is not None:
                process.join(10)
                if process.is_alive():
                    process.kill()

    offered = {(member, linkedid): at for member, linkedid, at in offers}
    latencies = sorted(
        (at - offered[key]) * 1000 for key, at in ((k[:2], k[2]) for k in pops) if key in offered
    )
    popped = {(u, lid) for u, lid, _ in pops}
    if DEBUG:
        for key in [k for k in offered if k not in popped][:10]:
            seen = [p for p in pops if p[1] == key[1]]
            _say(f"missing {key}: offered at {offered[key]:.3f}; seen {seen}")
    missing = sum(1 for key in offered if key not in popped)
    p50, p99 = _percentile(latencies, 0.50), _percentile(latencies, 0.99)
    _say(
        f"{len(offered)} offers, {len(latencies)} screen pops, {missing} never popped; "
        f"p50 {p50:.1f} ms, p90 {_percentile(latencies, 0.90):.1f} ms, p99 {p99:.1f} ms, "
        f"max {latencies[-1] if latencies else float('nan'):.1f} ms, mean "
        f"{statistics.fmean(latencies) if latencies else float('nan'):.1f} ms"
    )
    return {
        "screen_pop_p50_ms": round(p50, 2),
        "screen_pop_p99_ms": round(p99, 2),
        "screen_pop_count": float(len(latencies)),
        "screen_pop_missing": float(missing),
    }


def _wait_ready(base: str, api: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if api.poll() is not None:
            raise RuntimeError("the API exited; see var/bench-screenpop-api.log")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        time.sleep(0.2)
    raise RuntimeError("the API did not start within 60 s; see var/bench-screenpop-api.log")


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
