from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import pytest

from pbx.ami_protocol import AmiFrameParser, AmiMessage
from pbx.simulator.recording import Exchange, Recording, bundled_recordings, load_recording
from pbx.simulator.server import AmiSimulator, SimulatorSettings

FAST = SimulatorSettings(time_scale=0.0, auth_failure_delay=1.0, restart_delay=0.0)


class RawClient:
    """A bare AMI client over TCP: send action bytes, collect decoded messages."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.parser = AmiFrameParser()
        self.received: list[AmiMessage] = []
        self.closed = False

    @classmethod
    async def connect(cls, port: int) -> RawClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    def send(self, action: AmiMessage) -> None:
        lines = [f"{key}: {value}" for key, value in action.headers]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())

    async def read_until(self, count: int, within: float = 5.0) -> list[AmiMessage]:
        """Read until ``count`` messages arrived in total, or the server closed the socket."""
        async with asyncio.timeout(within):
            while len(self.received) < count and not self.closed:
                data = await self.reader.read(65536)
                if not data:
                    self.closed = True
                    break
                self.received.extend(self.parser.feed(data))
        return self.received

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


def _shape(message: AmiMessage) -> tuple[object, ...]:
    """What must match the recording: kind and name, header names in order, Reason and
    Response codes, list markers. Values such as Uniqueids and timestamps are not compared."""
    return (
        message.event or f"Response:{message.response}",
        message.header_names,
        message.get("Reason"),
        message.get("Response"),
        message.get("EventList"),
        message.get("Message"),
    )


def _client_action(exchange: Exchange) -> AmiMessage:
    """The recorded action with the test's own ActionID (to check it is echoed)."""
    return AmiMessage(
        tuple((k, f"test-{v}" if k.lower() == "actionid" else v) for k, v in exchange.action.headers)
    )


async def replay(
    recording: Recording, settings: SimulatorSettings = FAST
) -> list[tuple[str, list[AmiMessage]]]:
    """Send the recording's actions to a simulator playing it; return what came back per action."""
    simulator = AmiSimulator(recording, settings)
    port = await simulator.start()
    results: list[tuple[str, list[AmiMessage]]] = []
    try:
        for session in recording.sessions:
            client = await RawClient.connect(port)
            try:
                for exchange in session.exchanges:
                    before = len(client.received)
                    client.send(_client_action(exchange))
                    if not exchange.replies:
                        await client.read_until(before + 1, within=5)
                        results.append((exchange.name, client.received[before:]))
                        continue
                    got = await client.read_until(before + len(exchange.replies))
                    results.append((exchange.name, got[before:]))
                    if client.closed:
                        break
            finally:
                client.close()
        # only actions Asterisk never answered (sent to a closing socket) may remain
        assert all(not e.replies for e in simulator.pending_exchanges)
    finally:
        await simulator.stop()
    return results


@pytest.mark.parametrize("name", sorted(bundled_recordings()))
async def test_given_a_recording_when_its_actions_are_replayed_then_the_simulator_answers_alike(
    name: str,
) -> None:
    recording = load_recording(bundled_recordings()[name])
    results = await replay(recording)
    expected = [(e.name, [i.message for i in e.replies]) for s in recording.sessions for e in s.exchanges]
    assert [n for n, _ in results] == [n for n, _ in expected][: len(results)]
    for (action, got), (_, want) in zip(results, expected, strict=False):
        assert [_shape(m) for m in got] == [_shape(m) for m in want], f"{name}: {action}"
        for message, recorded in zip(got, want, strict=True):
            if recorded.action_id is not None:
                assert message.action_id == f"test-{recorded.action_id}"


def test_the_bundled_recordings_are_the_shared_ones(shared_traces: Path) -> None:
    for name, path in bundled_recordings().items():
        original = shared_traces / (f"set2/{name[5:]}.txt" if name.startswith("set2-") else f"{name}.txt")
        assert path.read_bytes() == original.read_bytes(), name


async def test_given_a_wrong_secret_then_the_error_comes_after_a_second_and_the_socket_closes() -> None:
    simulator = AmiSimulator(None, SimulatorSettings(time_scale=0.0))
    port = await simulator.start()
    client = await RawClient.connect(port)
    try:
        started = time.monotonic()
        client.send(
            AmiMessage((("Action", "Login"), ("ActionID", "bad"), ("Username", "hotline"), ("Secret", "x")))
        )
        client.send(AmiMessage((("Action", "CoreStatus"), ("ActionID", "meanwhile"))))
        got = await client.read_until(10, within=5)
        assert time.monotonic() - started >= 0.95
        assert [(m.response, m.value("Message")) for m in got] == [("Error", "Authentication failed")]
        assert client.closed
    finally:
        client.close()
        await simulator.stop()


async def test_given_no_login_then_actions_are_denied() -> None:
    simulator = AmiSimulator(None, FAST)
    port = await simulator.start()
    client = await RawClient.connect(port)
    try:
        client.send(AmiMessage((("Action", "CoreStatus"), ("ActionID", "x"))))
        (message,) = await client.read_until(1)
        assert message.value("Message") == "Permission denied"
        assert client.parser.banner == "Asterisk Call Manager/11.0.0"
    finally:
        client.close()
        await simulator.stop()


async def test_given_a_client_value_differs_from_the_recording_then_the_events_carry_the_clients_value() -> (
    None
):
    recording = load_recording(bundled_recordings()["e-queue-members"])
    simulator = AmiSimulator(recording, FAST)
    port = await simulator.start()
    client = await RawClient.connect(port)
    try:
        client.send(
            AmiMessage(
                (
                    ("Action", "Login"),
                    ("ActionID", "l"),
                    ("Username", "hotline"),
                    ("Secret", "hotline-secret"),
                )
            )
        )
        await client.read_until(3)
        add = recording.exchanges[1].action
        assert add.value("Action") == "QueueAdd"
        client.send(add.replace(MemberName="坐席2002", ActionID="mine"))
        got = await client.read_until(3 + len(recording.exchanges[1].replies))
        added = next(m for m in got if m.event == "QueueMemberAdded")
        assert added.value("MemberName") == "坐席2002"
        assert simulator.model.queue_members[("citizens", add.value("Interface"))].member_name == "坐席2002"
    finally:
        client.close()
        await simulator.stop()
