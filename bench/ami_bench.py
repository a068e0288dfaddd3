"""AMI events through Minhu's pipeline (socket -> parse -> live model -> Redis pub/sub).

The stream is the recorded inbound queue call (``b-inbound-queue-call``: a citizen with a
Chinese caller name queues, an agent answers, they talk, the citizen hangs up — 86 events), copied
once per simulated call with its own Uniqueids, Linkedids, bridge ids and channel names. A small
AMI server in a separate process (so that it does not share the client's CPU time) plays it
over a real local TCP socket to an unmodified ``AmiConnection``; a ``PbxNotifier`` publishes
the model's changes on Redis.

Figures:

* ``ami_pipeline_events_per_s``: the server writes ``flood_calls`` calls' events at once; events
  divided by the time from asking for the stream to the last change being published on Redis
  (best of three rounds). ``ami_pipeline_events_per_cpu_s``: the same per CPU second of the
  client process (less sensitive to other load on a shared machine).
* ``ami_bare_parser_events_per_s`` (and ``_per_cpu_s``): panoramisk 1.4's own
  ``AMIProtocol.data_received`` on the same bytes, fed in 64 KiB pieces in-process, with event
  dispatch doing nothing (no socket, no model, no Redis: the bare parser), measured right before
  each pipeline round, best of three.
* ``ami_event_to_pubsub_p50_ms`` / ``_p99_ms``: ``concurrent_calls`` calls are started evenly over
  one call's length and each plays the recorded timing (originate, queue, answer in about one
  second, then ``call_seconds`` of talk, then the hang-up), so that ``concurrent_calls`` are up
  at once at the peak (about 4,800 events/s for 500 calls of 9 s, far above a real centre's 500
  calls of ~3 minutes). Latency runs from the moment the server process has written the event to
  the socket to the moment a subscriber process (``PbxSubscriber`` on its own Redis connection,
  as an API worker) has received and decoded the message about it: the first ``channel_changed``
  of each new channel (Newchannel) and the ``channel_gone`` of each hang-up (about 4,000 samples).
  All processes read the same monotonic clock.

Redis: ``MINHU_BENCH_REDIS_URL`` (default: ``MINHU_TEST_REDIS_URL`` or redis://127.0.0.1:6379/15);
keys live under a unique prefix and are deleted afterwards.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import re
import statistics
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from panoramisk.ami_protocol import AMIProtocol as PanoramiskProtocol

from pbx import events as ev
from pbx.ami_protocol import AmiMessage
from pbx.manager import AmiConnection, AmiSettings
from pbx.notifier import STATE_HASHES, PbxMessage, PbxNotifier, PbxSubscriber
from pbx.simulator.recording import bundled_recordings, load_recording

RECORDING = "b-inbound-queue-call"
SENTINEL = "MinhuBenchEnd"
START_COMMAND = "minhu bench start"
_HEX_COUNTER = re.compile(r"-([0-9a-f]{8})(?=;\d$|$)")
_BANNER = b"Asterisk Call Manager/11.0.0\r\n"


# --- the stream -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Timed:
    at: float
    """seconds after the call started"""
    message: AmiMessage


def recorded_call() -> tuple[list[Timed], float]:
    """The call's unsolicited events with their offsets, and the recorded call length."""
    recording = load_recording(bundled_recordings()[RECORDING])
    call: list[Timed] = []
    hangup_at = 0.0
    for exchange in recording.exchanges:
        if exchange.name == "Originate":
            start = 0.0
        elif exchange.name == "Hangup":
            start = hangup_at = 9.012  # recorded: Originate at +1.304 s, Hangup at +10.316 s
        else:
            continue
        for item in exchange.replies:
            if item.message.is_event and item.message.action_id is None:
                call.append(Timed(start + item.delay, item.message))
    return call, hangup_at


def _copy(message: AmiMessage, index: int, ids: dict[str, str]) -> AmiMessage:
    headers: list[tuple[str, str]] = []
    for key, value in message.headers:
        lowered = key.lower()
        if value and lowered.endswith(("uniqueid", "linkedid")) and value != "<unknown>":
            if value not in ids:
                ids[value] = (
                    str(uuid.uuid5(uuid.NAMESPACE_URL, f"{value}/{index}"))
                    if "-" in value
                    else f"1800000000.{index * 16 + len(ids)}"
                )
            value = ids[value]
        elif "channel" in lowered or lowered == "newname":
            value = _HEX_COUNTER.sub(lambda m: f"-{int(m.group(1), 16) + index * 16:08x}", value)
        headers.append((key, value))
    return AmiMessage(tuple(headers), message.body)


@dataclass(frozen=True, slots=True)
class Marker:
    """An event whose pub/sub message the latency run waits for."""

    kind: str  # "channel_changed" (a Newchannel) or "channel_gone" (a Hangup)
    uniqueid: str


def call_copy(index: int, call: list[Timed]) -> list[tuple[float, bytes, Marker | None]]:
    ids: dict[str, str] = {}
    out: list[tuple[float, bytes, Marker | None]] = []
    for item in call:
        message = _copy(item.message, index, ids)
        marker = None
        if message.event == "Newchannel":
            marker = Marker("channel_changed", message.value("Uniqueid"))
        elif message.event == "Hangup":
            marker = Marker("channel_gone", message.value("Uniqueid"))
        out.append((item.at, message.encode(), marker))
    return out


def flood_bytes(calls: int) -> tuple[bytes, int]:
    """``calls`` copies back to back (each call whole): the bytes and the number of events."""
    call, _ = recorded_call()
    chunks = [data for index in range(calls) for _, data, _ in call_copy(index, call)]
    return b"".join(chunks), len(chunks)


def paced_schedule(calls: int, call_seconds: float) -> list[tuple[float, bytes, Marker | None]]:
    """Every call's events at (call start + recorded offset), call starts spread evenly over one
    call's length, so that ``calls`` are up at once at the peak."""
    call, hangup_at = recorded_call()
    stretch = [Timed(t.at if t.at < hangup_at else t.at - hangup_at + call_seconds, t.message) for t in call]
    schedule: list[tuple[float, bytes, Marker | None]] = []
    for index in range(calls):
        start = index * call_seconds / calls
        schedule.extend((start + at, data, marker) for at, data, marker in call_copy(index, stretch))
    schedule.sort(key=lambda item: item[0])
    return schedule


# --- the server process -----------------------------------------------------------------------


def _frame(pairs: list[tuple[str, str]]) -> bytes:
    return AmiMessage(tuple(pairs)).encode()


class _BenchAmiServer:
    """Just enough AMI for ``AmiConnection`` (login, resync lists, ping), then the stream."""

    def __init__(self, mode: str, calls: int, call_seconds: float, results: Connection) -> None:
        self.mode = mode
        self.results = results
        # built before the clock starts
        self.flood_data = flood_bytes(calls)[0] if mode == "flood" else b""
        self.schedule = paced_schedule(calls, call_seconds) if mode == "paced" else []

    async def on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(_BANNER)
        buffer = b""
        while not reader.at_eof():
            data = await reader.read(65536)
            if not data:
                break
            buffer += data
            while b"\r\n\r\n" in buffer:
                raw, buffer = buffer.split(b"\r\n\r\n", 1)
                action = dict(line.split(": ", 1) for line in raw.decode().split("\r\n") if ": " in line)
                await self.answer(action, writer)
        writer.close()

    async def answer(self, action: dict[str, str], writer: asyncio.StreamWriter) -> None:
        name = action.get("Action", "").lower()
        reply = [("ActionID", action["ActionID"])] if "ActionID" in action else []
        if name == "login":
            writer.write(_frame([("Response", "Success"), *reply, ("Message", "Authentication accepted")]))
        elif name in ("coreshowchannels", "bridgelist", "queuestatus"):
            complete = {"coreshowchannels": "CoreShowChannelsComplete", "bridgelist": "BridgeListComplete"}
            writer.write(
                _frame([("Response", "Success"), *reply, ("EventList", "start"), ("Message", "follows")])
            )
            writer.write(
                _frame(
                    [
                        ("Event", complete.get(name, "QueueStatusComplete")),
                        *reply,
                        ("EventList", "Complete"),
                        ("ListItems", "0"),
                    ]
                )
            )
        elif name == "ping":
            writer.write(_frame([("Response", "Success"), *reply, ("Ping", "Pong")]))
        elif name == "command" and action.get("Command") == START_COMMAND:
            writer.write(_frame([("Response", "Success"), *reply, ("Message", "Command output follows")]))
            await writer.drain()
            if self.mode == "flood":
                await self.flood(writer)
            else:
                await self.paced(writer)
        else:
            writer.write(_frame([("Response", "Error"), *reply, ("Message", "not in this benchmark")]))

    async def flood(self, writer: asyncio.StreamWriter) -> None:
        writer.write(self.flood_data + _sentinel())
        await writer.drain()
        self.results.send({})

    async def paced(self, writer: asyncio.StreamWriter) -> None:
        schedule = self.schedule
        written: dict[tuple[str, str], float] = {}
        loop = asyncio.get_running_loop()
        began = loop.time()
        position = 0
        while position < len(schedule):
            due = schedule[position][0]
            wait = began + due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            # everything due by now goes out in one write, as Asterisk does
            now = loop.time() - began
            batch: list[bytes] = []
            markers: list[Marker] = []
            while position < len(schedule) and schedule[position][0] <= now:
                _, data, marker = schedule[position]
                batch.append(data)
                if marker is not None:
                    markers.append(marker)
                position += 1
            writer.write(b"".join(batch))
            stamp = time.perf_counter()
            for marker in markers:
                written[(marker.kind, marker.uniqueid)] = stamp
            await writer.drain()
        writer.write(_sentinel())
        await writer.drain()
        self.results.send(written)


def _sentinel() -> bytes:
    return _frame([("Event", "UserEvent"), ("Privilege", "user,all"), ("UserEvent", SENTINEL)])


def _serve(mode: str, calls: int, call_seconds: float, results: Connection) -> None:
    async def main() -> None:
        server = _BenchAmiServer(mode, calls, call_seconds, results)
        listener = await asyncio.start_server(server.on_connect, "127.0.0.1", 0)
        results.send(listener.sockets[0].getsockname()[1])
        async with listener:
            await listener.serve_forever()

    asyncio.run(main())


# --- the client side --------------------------------------------------------------------------


def _redis_url() -> str:
    return (
        os.environ.get("MINHU_BENCH_REDIS_URL")
        or os.environ.get("MINHU_TEST_REDIS_URL")
        or "redis://127.0.0.1:6379/15"
    )


@dataclass
class _Run:
    events_per_s: float
    events_per_cpu_s: float
    latencies_ms: list[float]


async def _client(
    port: int, server: Connection, prefix: str, events: int
) -> tuple[float, float, dict[Any, float]]:
    """Connect, ask for the stream, wait until its last change is on Redis: (events per second,
    events per CPU second of this process, the server's write times of the markers)."""
    import redis.asyncio as aioredis

    publisher = aioredis.from_url(_redis_url())
    connection = AmiConnection(
        AmiSettings(
            host="127.0.0.1",
            port=port,
            username="bench",
            secret="bench",
            ping_interval=3600.0,
            action_timeout=30.0,
        )
    )
    notifier = PbxNotifier(publisher, model=connection.model, prefix=prefix, max_pending=1_000_000)
    notifier.attach(connection)
    ended = asyncio.Event()

    def on_event(event: ev.AmiEvent) -> None:
        if isinstance(event, ev.UnknownEvent) and dict(event.headers).get("UserEvent") == SENTINEL:
            ended.set()

    connection.on_event(on_event)
    try:
        await notifier.start()
        await connection.start()
        await connection.wait_connected(10)
        await notifier.wait_idle()
        started, cpu_started = time.perf_counter(), time.process_time()
        await connection.command(START_COMMAND, deadline=60)
        await ended.wait()
        await notifier.wait_idle()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        written: dict[Any, float] = await asyncio.to_thread(server.recv)
        return events / elapsed, events / cpu, written
    finally:
        await connection.stop()
        await notifier.stop()
        await publisher.delete(*[f"{prefix}:state:{name}" for name in (*STATE_HASHES, "seq")])
        await publisher.aclose()


def _subscribe(prefix: str, control: Connection) -> None:
    """A subscriber process (an API worker): the receipt time of each marker's message."""

    async def main() -> None:
        import redis.asyncio as aioredis

        client = aioredis.from_url(_redis_url())
        seen: dict[tuple[str, str], float] = {}
        async with PbxSubscriber(client, prefix=prefix) as subscriber:
            control.send("ready")
            while not control.poll():
                message = await subscriber.next_message(within=0.2)
                if message is not None:
                    _note(message, seen)
        await client.aclose()
        control.send(seen)

    asyncio.run(main())


def _note(message: PbxMessage, seen: dict[tuple[str, str], float]) -> None:
    now = time.perf_counter()
    for raw in message.raw_changes:
        kind = raw.get("type")
        if kind in ("channel_changed", "channel_gone"):
            key = (kind, raw["channel"]["uniqueid"])
            if key not in seen:
                seen[key] = now


def _with_server(mode: str, calls: int, call_seconds: float, events: int) -> _Run:
    context = multiprocessing.get_context("spawn")
    prefix = f"minhu-bench-{uuid.uuid4().hex[:8]}:pbx"
    ours, theirs = context.Pipe()
    server = context.Process(target=_serve, args=(mode, calls, call_seconds, theirs), daemon=True)
    server.start()
    subscriber = None
    control, remote = context.Pipe()
    try:
        if mode == "paced":
            subscriber = context.Process(target=_subscribe, args=(prefix, remote), daemon=True)
            subscriber.start()
            assert control.recv() == "ready"
        port = ours.recv()
        rate, cpu_rate, written = asyncio.run(_client(port, ours, prefix, events))
        latencies: list[float] = []
        if subscriber is not None:
            time.sleep(1.0)  # the last messages reach the subscriber
            control.send("stop")
            seen: dict[Any, float] = control.recv()
            missing = [key for key in written if key not in seen]
            if missing:
                raise RuntimeError(f"{len(missing)} of {len(written)} changes never reached the subscriber")
            latencies = [(seen[key] - at) * 1000.0 for key, at in written.items()]
        return _Run(rate, cpu_rate, latencies)
    finally:
        for process in (server, subscriber):
            if process is not None:
                process.terminate()
                process.join(5)


# --- the bare parser --------------------------------------------------------------------------


class _NoDispatch:
    def dispatch(self, message: Any) -> None:
        return None


def bare_parser_events_per_s(data: bytes, events: int) -> tuple[float, float]:
    """panoramisk's AMIProtocol.data_received on ``data``: (events per second, per CPU second)."""
    protocol = PanoramiskProtocol()
    protocol.connection_made(None)
    protocol.factory = _NoDispatch()
    protocol.encoding = "utf8"
    started, cpu_started = time.perf_counter(), time.process_time()
    for piece in _pieces(data):
        protocol.data_received(piece)
    return events / (time.perf_counter() - started), events / (time.process_time() - cpu_started)


def _pieces(data: bytes, size: int = 65536) -> Iterator[bytes]:
    for offset in range(0, len(data), size):
        yield data[offset : offset + size]


def run(flood_calls: int = 1000, concurrent_calls: int = 500, call_seconds: float = 9.0) -> dict[str, float]:
    """Rates: the best of three rounds each, the bare parser measured right before each pipeline
    run (the machine may be shared: the best round is the one least disturbed)."""
    data, events = flood_bytes(flood_calls)
    bare: list[tuple[float, float]] = []
    pipeline: list[_Run] = []
    for _ in range(3):
        bare.append(bare_parser_events_per_s(data, events))
        pipeline.append(_with_server("flood", flood_calls, call_seconds, events))
    paced_events = len(paced_schedule(concurrent_calls, call_seconds))
    latency = sorted(_with_server("paced", concurrent_calls, call_seconds, paced_events).latencies_ms)
    return {
        "ami_pipeline_events_per_s": max(run.events_per_s for run in pipeline),
        "ami_bare_parser_events_per_s": max(wall for wall, _ in bare),
        "ami_pipeline_events_per_cpu_s": max(run.events_per_cpu_s for run in pipeline),
        "ami_bare_parser_events_per_cpu_s": max(cpu for _, cpu in bare),
        "ami_event_to_pubsub_p50_ms": statistics.median(latency),
        "ami_event_to_pubsub_p99_ms": latency[min(len(latency) - 1, int(len(latency) * 0.99))],
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
