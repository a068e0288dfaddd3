from __future__ import annotations

import asyncio
import logging
import random
from pathlib import Path

import pytest
from panoramisk import Manager

from pbx.ami_protocol import AmiAction, AmiFrameParser, AmiMessage, AmiProtocol, parse_frame
from pbx.exceptions import AmiLinkLostError

from .pbx_polling import eventually


def _raw_streams(shared_traces: Path) -> list[Path]:
    streams = sorted((shared_traces / "set2").glob("*.rx.raw"))
    assert streams, "no .rx.raw recordings found"
    return streams


def _feed_in_pieces(data: bytes, cuts: list[int]) -> list[AmiMessage]:
    parser = AmiFrameParser()
    out: list[AmiMessage] = []
    previous = 0
    for cut in [*sorted(cuts), len(data)]:
        out.extend(parser.feed(data[previous:cut]))
        previous = cut
    assert parser.skipped_frames == 0
    return out


def _inside_multibyte_offsets(data: bytes) -> list[int]:
    """Offsets that fall between two bytes of one UTF-8 character."""
    return [i for i in range(1, len(data)) if 0x80 <= data[i] < 0xC0]


def test_given_each_recorded_stream_when_split_at_random_offsets_then_same_messages(
    shared_traces: Path,
) -> None:
    rng = random.Random(12345)
    for path in _raw_streams(shared_traces):
        data = path.read_bytes()
        whole = AmiFrameParser().feed(data)
        assert whole, path.name
        inside = _inside_multibyte_offsets(data)
        for _ in range(25):
            cuts = rng.sample(range(1, len(data)), k=min(len(data) - 1, rng.randint(1, 200)))
            if inside:
                cuts += rng.sample(inside, k=min(len(inside), 20))
            assert _feed_in_pieces(data, sorted(set(cuts))) == whole, path.name


def test_given_a_stream_fed_byte_by_byte_then_same_messages(shared_traces: Path) -> None:
    data = (shared_traces / "set2" / "e-queueadd-pause-remove.rx.raw").read_bytes()
    assert _feed_in_pieces(data, list(range(1, len(data)))) == AmiFrameParser().feed(data)


def test_given_chinese_text_split_inside_a_character_then_it_survives() -> None:
    frame = "Event: Newchannel\r\nCallerIDName: 张三丰\r\nUniqueid: 1.1\r\n\r\n".encode()
    cut = frame.index("张".encode()) + 1
    parser = AmiFrameParser(expect_banner=False)
    assert parser.feed(frame[:cut]) == []
    (message,) = parser.feed(frame[cut:])
    assert message.value("CallerIDName") == "张三丰"


def test_given_the_banner_split_across_reads_then_it_is_recognised() -> None:
    parser = AmiFrameParser()
    assert parser.feed(b"Aster") == []
    assert parser.feed(b"isk Call Manager/11.0.0\r") == []
    (message,) = parser.feed(b"\nResponse: Success\r\nActionID: a\r\n\r\n")
    assert parser.banner == "Asterisk Call Manager/11.0.0"
    assert message.is_response and message.action_id == "a"


def test_given_malformed_frames_then_they_are_logged_and_skipped(caplog: pytest.LogCaptureFixture) -> None:
    parser = AmiFrameParser(expect_banner=False)
    stream = (
        b"Event: A\r\nX: 1\r\n\r\n"
        b"this is not a header\r\n\r\n"
        b"Event: Bad\r\nCallerIDName: \xe5\xbc\r\n\r\n"  # truncated UTF-8 inside a complete frame
        b"Foo: no event or response\r\n\r\n"
        b"Event: B\r\nY: 2\r\n\r\n"
    )
    with caplog.at_level(logging.WARNING, logger="pbx.ami_protocol"):
        messages = parser.feed(stream)
    assert [m.event for m in messages] == ["A", "B"]
    assert parser.skipped_frames == 3
    assert "not a header" in caplog.text and "invalid UTF-8" in caplog.text


def test_given_an_oversized_frame_then_it_is_skipped_and_the_next_frame_is_decoded() -> None:
    skipped: list[str] = []
    parser = AmiFrameParser(
        expect_banner=False, max_frame_bytes=1000, on_bad_frame=lambda reason, _: skipped.append(reason)
    )
    assert parser.feed(b"Event: Big\r\n") == []
    for _ in range(10):
        assert parser.feed(b"Value: " + b"x" * 500 + b"\r\n") == []
    messages = parser.feed(b"Last: y\r\n\r\nEvent: Small\r\nA: 1\r\n\r\n")
    assert [m.event for m in messages] == ["Small"]
    assert skipped and "oversized" in skipped[0]
    # a complete frame that is too large is skipped as well
    assert parser.feed(b"Event: Big\r\nV: " + b"y" * 2000 + b"\r\n\r\nEvent: Ok\r\n\r\n")[0].event == "Ok"


def test_given_one_read_with_whole_frames_and_an_oversized_start_then_only_the_whole_ones_come_out() -> None:
    skipped: list[str] = []
    parser = AmiFrameParser(
        expect_banner=False, max_frame_bytes=100, on_bad_frame=lambda reason, _: skipped.append(reason)
    )
    first = parser.feed(b"Event: A\r\n\r\nEvent: B\r\nX: 1\r\n\r\nEvent: Big\r\nV: " + b"v" * 200)
    assert [m.event for m in first] == ["A", "B"]
    assert len(skipped) == 1 and "oversized" in skipped[0]
    # the rest of the oversized frame is dropped, the frames after it are not
    later = parser.feed(b"v" * 50 + b"\r\n\r\nEvent: C\r\n\r\nEvent: D\r\n\r\n")
    assert [m.event for m in later] == ["C", "D"]


def test_given_asterisk_22_command_output_then_output_lines_are_kept_in_order() -> None:
    message = parse_frame(
        "Response: Success\r\nActionID: c\r\nMessage: Command output follows\r\n"
        "Output: citizens has 0 calls\r\nOutput:    No Members\r\nOutput: "
    )
    assert message.output_lines() == ["citizens has 0 calls", "   No Members", ""]


def test_given_a_legacy_follows_response_then_the_body_is_kept() -> None:
    message = parse_frame(
        "Response: Follows\r\nPrivilege: Command\r\nActionID: c\r\nline one\nline: two\n--END COMMAND--"
    )
    assert message.response == "Follows"
    assert message.output_lines() == ["line one", "line: two"]


def test_given_an_empty_last_header_then_it_is_kept() -> None:
    message = parse_frame("Response: Success\r\nActionID: g\r\nVariable: GLOBAL(X)\r\nValue: ")
    assert message.get("Value") == ""
    assert message.header_names == ("Response", "ActionID", "Variable", "Value")


async def _serve(chunks: list[bytes], hold: asyncio.Event) -> tuple[asyncio.Server, int, list[bytes]]:
    received: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for chunk in chunks:
            writer.write(chunk)
            await writer.drain()
            await asyncio.sleep(0.001)
        received.append(await reader.readuntil(b"\r\n\r\n"))
        await hold.wait()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, port, received


async def test_given_panoramisk_with_our_protocol_when_a_name_is_split_then_the_event_is_intact() -> None:
    frame = "Event: Newchannel\r\nCallerIDName: 张三丰\r\n\r\n".encode()
    cut = frame.index("三".encode()) + 2
    hold = asyncio.Event()
    server, port, received = await _serve(
        [b"Asterisk Call Manager/11.0.0\r\n", frame[:cut], frame[cut:]], hold
    )
    manager = Manager(host="127.0.0.1", port=port, protocol_factory=AmiProtocol, ping_delay=3600)
    events: list[object] = []
    manager.register_event("*", lambda _manager, event: events.append(event))
    try:
        await manager.connect()
        await eventually(lambda: events)
        assert events[0]["CallerIDName"] == "张三丰"  # type: ignore[index]
        assert manager.protocol.version == "11.0.0"
        # an action in flight when the link drops fails; it is not queued for a re-send
        action = AmiAction({"Action": "QueueAdd", "Queue": "citizens"})
        future = manager.send_action(action)
        await eventually(lambda: received)
        hold.set()
        with pytest.raises(AmiLinkLostError):
            await asyncio.wait_for(future, 5)
        assert not manager.awaiting_actions
    finally:
        hold.set()
        manager.close()
        server.close()
        await server.wait_closed()


async def test_given_queueadd_when_asterisk_answers_added_interface_then_the_action_resolves() -> None:
    hold = asyncio.Event()
    server, port, _ = await _serve([b"Asterisk Call Manager/11.0.0\r\n"], hold)
    manager = Manager(host="127.0.0.1", port=port, protocol_factory=AmiProtocol, ping_delay=3600)
    try:
        await manager.connect()
        await eventually(lambda: manager.protocol is not None and manager.protocol.version)
        future = manager.send_action(AmiAction({"Action": "QueueAdd", "ActionID": "qa-1"}))
        manager.protocol.data_received(
            b"Response: Success\r\nActionID: qa-1\r\nMessage: Added interface to queue\r\n\r\n"
        )
        response = await asyncio.wait_for(future, 1)
        assert response["Message"] == "Added interface to queue"
        listing = manager.send_action(AmiAction({"Action": "BridgeList", "ActionID": "bl-1"}))
        manager.protocol.data_received(
            b"Response: Success\r\nActionID: bl-1\r\nEventList: start\r\nMessage: Bridge listing will follow"
            b"\r\n\r\nEvent: BridgeListComplete\r\nActionID: bl-1\r\nEventList: Complete\r\n"
            b"ListItems: 0\r\n\r\n"
        )
        messages = await asyncio.wait_for(listing, 1)
        assert [m.ami.event or m.ami.response for m in messages] == ["Success", "BridgeListComplete"]
    finally:
        hold.set()
        manager.close()
        server.close()
        await server.wait_closed()


async def test_given_an_event_sink_then_events_reach_it_but_replies_and_shutdown_go_through_panoramisk() -> (
    None
):
    hold = asyncio.Event()
    server, port, _ = await _serve([b"Asterisk Call Manager/11.0.0\r\n"], hold)
    manager = Manager(host="127.0.0.1", port=port, protocol_factory=AmiProtocol, ping_delay=3600)
    sunk: list[AmiMessage] = []
    dispatched: list[str] = []
    manager.register_event("*", lambda _manager, event: dispatched.append(event.ami.event))
    try:
        await manager.connect()
        await eventually(lambda: manager.protocol is not None and manager.protocol.version)
        manager.protocol.event_sink = sunk.append
        listing = manager.send_action(AmiAction({"Action": "CoreShowChannels", "ActionID": "csc-1"}))
        manager.protocol.data_received(
            "Event: Newchannel\r\nChannel: PJSIP/1001-00000001\r\nCallerIDName: 张三\r\n\r\n"
            "Response: Success\r\nActionID: csc-1\r\nEventList: start\r\n"
            "Message: Channels will follow\r\n\r\n"
            "Event: CoreShowChannel\r\nActionID: csc-1\r\nChannel: PJSIP/1001-00000001\r\n\r\n"
            "Event: OriginateResponse\r\nActionID: long-done\r\nReason: 4\r\n\r\n"
            "Event: CoreShowChannelsComplete\r\nActionID: csc-1\r\nEventList: Complete\r\n"
            "ListItems: 1\r\n\r\n"
            "Event: Shutdown\r\nShutdown: Uncleanly\r\nRestart: True\r\n\r\n".encode()
        )
        items = await asyncio.wait_for(listing, 1)
        assert [m.ami.event or m.ami.response for m in items] == [
            "Success",
            "CoreShowChannel",
            "CoreShowChannelsComplete",
        ]
        # an event with an ActionID that no action waits for is an ordinary event
        assert [(m.event, m.value("CallerIDName")) for m in sunk] == [
            ("Newchannel", "张三"),
            ("OriginateResponse", ""),
        ]
        assert dispatched == ["Shutdown"]
    finally:
        hold.set()
        manager.close()
        server.close()
        await server.wait_closed()
