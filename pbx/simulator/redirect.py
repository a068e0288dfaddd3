"""AMI ``Redirect`` (single or dual) of the legs of a queue call, as the three-party call does it
(``c-three-party-confbridge``): both legs leave the queue's bridge without an ``AgentComplete``
(the member stays in use), each goes on in the dialplan at the target (a ConfBridge room), and
the agent's ``AgentComplete`` (Reason ``agent``) comes when the agent's leg is done there."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pbx.simulator.world import SimChannel, SimMember

if TYPE_CHECKING:
    from pbx.simulator.scenario_engine import ScenarioEngine


class Redirects:
    def __init__(self, engine: ScenarioEngine) -> None:
        self.engine = engine

    def redirect(self, targets: list[tuple[str, tuple[str, str, int]]]) -> tuple[bool, str]:
        """``[(channel name, (context, exten, priority)), ...]``: one or two legs of a queue call."""
        world = self.engine.world
        channels: list[tuple[SimChannel, tuple[str, str, int]]] = []
        for name, target in targets:
            channel = world.channel_named(name)
            if channel is None:
                return False, "Channel specified does not exist"
            if channel.bridge is None or channel.bridge.technology != "simple_bridge":
                return False, f"Simulator redirects only the legs of a bridged queue call, not {name}"
            channels.append((channel, target))
        for channel, target in channels:
            channel.redirect_to = target
        for channel, _ in channels:
            wake = self.engine.wakes.get(channel.uniqueid)
            if wake is not None:
                wake.set()
        return True, "Dual Redirect successful" if len(channels) > 1 else "Redirect successful"

    def agent_leg_redirected(
        self, caller: SimChannel, leg: SimChannel, member: SimMember, queue_name: str, started: float
    ) -> None:
        """The agent's leg walks the dialplan at its Redirect target; the member is in use until
        that ends."""
        target = leg.redirect_to
        leg.redirect_to = None
        if target is None:
            return
        self.engine.spawn(self._run_agent_leg(caller, leg, member, queue_name, started, target))

    async def _run_agent_leg(
        self,
        caller: SimChannel,
        leg: SimChannel,
        member: SimMember,
        queue_name: str,
        started: float,
        target: tuple[str, str, int],
    ) -> None:
        engine = self.engine
        record = engine.new_record(None)
        record.channel = leg
        engine.wakes[leg.uniqueid] = record.wake
        if leg.peer is not None:
            engine.wakes[leg.peer.uniqueid] = record.wake
        context, exten, priority = target
        try:
            await engine.interpreter.run_dialplan(record, leg, context, exten, priority)
        finally:
            world = engine.world
            world.emit(
                "AgentComplete",
                caller,
                leg,
                Queue=queue_name,
                Interface=member.interface,
                MemberName=member.member_name,
                HoldTime=caller.variables.get("QUEUEWAIT", "0"),
                TalkTime=str(int(record.clock.now() - started)),
                Reason="agent",
            )
            if not leg.gone:
                engine.control.teardown(leg, record)
            engine.members.free(member, queue_name)
            engine.members.avail(queue_name)
            record.ended_by = record.ended_by or "agent"
            record.ended.set()
