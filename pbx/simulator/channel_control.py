"""Answering and hanging up simulated channels: who asked (citizen, agent, AMI, dialplan), the
wake-up of the call tasks concerned, and the events of a channel that ends outside a bridge."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pbx.simulator.call_record import CallRecord
from pbx.simulator.world import UP, SimChannel

if TYPE_CHECKING:
    from pbx.simulator.scenario_engine import ScenarioEngine


class ChannelControl:
    def __init__(self, engine: ScenarioEngine) -> None:
        self.engine = engine

    def answer(self, channel: SimChannel) -> None:
        world = self.engine.world
        world.set_state(channel, UP)
        world.device_state(channel.device, "INUSE")

    def request_hangup(self, channel: SimChannel, by: str, cause: int = 16) -> None:
        if channel.hangup_requested.is_set():
            return
        channel.hangup_cause = cause
        channel.hangup_by_action = by == "ami"
        for record in self.engine.calls:
            if record.channel is channel and record.ended_by is None:
                record.ended_by = by
        channel.hangup_requested.set()
        for leg in (channel, channel.peer):
            if leg is not None:
                wake = self.engine.wakes.get(leg.uniqueid)
                if wake is not None:
                    wake.set()

    def hangup_action(self, name: str, cause: int = 16) -> bool:
        """AMI ``Hangup``: False when there is no such channel."""
        channel = self.engine.world.channel_named(name)
        if channel is None:
            return False
        wakes = self.engine.wakes
        if channel.peer is not None and not channel.peer.gone:
            peer_wake = wakes.get(channel.peer.uniqueid)
            if peer_wake is not None and channel.uniqueid not in wakes:
                wakes[channel.uniqueid] = peer_wake
        self.request_hangup(channel, by="ami", cause=cause)
        return True

    def teardown(self, channel: SimChannel, record: CallRecord | None) -> None:
        """A channel that ends outside a bridge (and its Local peer)."""
        world = self.engine.world
        cause = channel.hangup_cause
        if channel.hangup_requested.is_set() and not channel.hangup_by_action:
            world.emit("HangupRequest", channel)
        elif channel.hangup_by_action:
            world.soft_hangup_request(channel, cause)
        peer = channel.peer
        if peer is not None and not peer.gone:
            world.hangup_request(peer, cause)
            world.soft_hangup_request(peer, 16)
        world.hangup(channel, cause)
        if peer is not None and not peer.gone:
            world.hangup(peer, cause)
        world.device_state(channel.device, "NOT_INUSE")
