"""Commands of an agent and a supervisor, acted out on the PBX (the behaviour; no HTTP, no socket).

Every state lives in Asterisk: sign-in is ``QueueAdd`` with the agent's username as
``MemberName``, a pause is ``QueuePause`` with a reason from ``PAUSE_REASONS``. A command returns
once the model shows its effect (or after a short deadline), so the answer already carries the new
state.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

from pbx.call_model import Channel, ModelChange, QueueMemberState
from pbx.dialplan_names import INBOUND_QUEUE, INBOUND_QUEUE_CONTEXT, INTERNAL_CONTEXT, PAUSE_REASONS
from pbx.manager import AmiConnection, OriginateResult
from pbx.three_party import ThreePartyCall, ThreePartyService, ThreePartyState

from .calls import interface_of
from .errors import AgentConflict, BadTarget, NoSuchAgent, NotInCall, NotSignedIn, PbxUnavailable
from .state import WRAPUP, valid_interface

_EXTENSION = re.compile(r"^\d{3,8}$")
SETTLE_SECONDS = 2.0
"""How long a command waits for its event before answering with the state it has."""


class AgentService:
    """Sign-in, pauses, the call's controls, three-party calls, supervision."""

    def __init__(
        self,
        ami: AmiConnection | None,
        three_party: ThreePartyService | None = None,
        *,
        queue: str = INBOUND_QUEUE,
    ) -> None:
        self._ami_connection = ami
        self.three_party = three_party
        self.queue = queue
        self._changed = asyncio.Event()
        if ami is not None:
            ami.on_changes(self._on_changes)

    def _on_changes(self, _changes: list[ModelChange]) -> None:
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def _until(self, predicate: Callable[[], bool], within: float = SETTLE_SECONDS) -> bool:
        try:
            async with asyncio.timeout(within):
                while not predicate():
                    await self._changed.wait()
        except TimeoutError:
            return False
        return True

    @property
    def ami(self) -> AmiConnection:
        ami = self._ami_connection
        if ami is None:
            raise PbxUnavailable("pbx-not-configured", "电话系统未配置（MINHU_AMI_HOST），无法执行话务操作")
        if not ami.is_connected:
            raise PbxUnavailable("pbx-not-connected", "电话系统连接中断，请稍后再试")
        return ami

    # --- reading ---------------------------------------------------------------------------

    def members(self) -> list[QueueMemberState]:
        ami = self._ami_connection
        return ami.model.members_of(self.queue) if ami is not None else []

    def member(self, username: str) -> QueueMemberState | None:
        return next((m for m in self.members() if m.member_name == username), None)

    def _signed_in(self, username: str) -> QueueMemberState:
        member = self.member(username)
        if member is None:
            raise NotSignedIn("agent-not-signed-in", "坐席尚未签入队列", username=username)
        return member

    def agent_channel(self, username: str) -> Channel | None:
        """The agent's live channel (the call on the agent's phone), if any."""
        member = self.member(username)
        ami = self._ami_connection
        if member is None or ami is None:
            return None
        interfaces = {member.interface: username}
        return next(
            (c for c in ami.model.channels.values() if interface_of(c.name, interfaces) is not None), None
        )

    def _call(self, username: str) -> tuple[Channel, Channel | None]:
        channel = self.agent_channel(username)
        if channel is None:
            raise NotInCall("agent-not-in-call", "坐席当前没有通话", username=username)
        bridge = self.ami.model.bridge_of(channel.uniqueid)
        peer = None
        if bridge is not None:
            others = [u for u in bridge.channels if u != channel.uniqueid]
            peer = self.ami.model.channels.get(others[0]) if len(others) == 1 else None
        return channel, peer

    # --- sign-in and pauses ----------------------------------------------------------------

    async def login(self, username: str, interface: str) -> QueueMemberState:
        """签入: QueueAdd of the agent's phone, not paused."""
        if not valid_interface(interface):
            raise BadTarget("invalid-interface", "话机接口格式无效（如 PJSIP/1001）", interface=interface)
        ami = self.ami
        current = self.member(username)
        if current is not None:
            if current.interface == interface:
                return current
            raise AgentConflict(
                "agent-already-signed-in",
                f"坐席已在话机 {current.interface} 签入，请先签出",
                interface=current.interface,
            )
        taken = next((m for m in self.members() if m.interface == interface), None)
        if taken is not None:
            raise AgentConflict("interface-taken", f"话机 {interface} 已由其他坐席签入", interface=interface)
        await ami.queue_add(self.queue, interface, username)
        await self._until(lambda: self.member(username) is not None)
        return self._signed_in(username)

    async def logout(self, username: str) -> None:
        """签出: QueueRemove."""
        member = self._signed_in(username)
        await self.ami.queue_remove(self.queue, member.interface)
        await self._until(lambda: self.member(username) is None)

    async def pause(self, username: str, reason: str) -> QueueMemberState:
        """示忙 with a reason (``break``, ``training`` ...; ``wrapup`` for after-call work)."""
        if reason not in PAUSE_REASONS:
            raise BadTarget(
                "invalid-pause-reason", "示忙原因无效：" + "、".join(PAUSE_REASONS.values()), reason=reason
            )
        member = self._signed_in(username)
        await self.ami.queue_pause(self.queue, member.interface, True, reason)
        await self._until(lambda: _paused_with(self.member(username), reason))
        return self._signed_in(username)

    async def resume(self, username: str) -> QueueMemberState:
        """示闲 (also ends wrap-up early)."""
        member = self._signed_in(username)
        if member.paused:
            await self.ami.queue_pause(self.queue, member.interface, False)
            await self._until(lambda: not _paused(self.member(username)))
        return self._signed_in(username)

    # --- the call --------------------------------------------------------------------------

    async def hang_up(self, username: str) -> None:
        channel, _ = self._call(username)
        await self.ami.hangup(channel.name)

    async def transfer(self, username: str, *, extension: str | None = None) -> None:
        """转接: the citizen goes back to the queue (``extension`` None) or to another agent."""
        _, peer = self._call(username)
        if peer is None:
            raise NotInCall("no-citizen-leg", "当前通话中没有可转接的市民一方", username=username)
        if extension is None:
            await self.ami.redirect(peer.name, INBOUND_QUEUE_CONTEXT, "s", 1)
            return
        if not _EXTENSION.match(extension):
            raise BadTarget("invalid-extension", "分机号无效：3到8位数字", extension=extension)
        await self.ami.redirect(peer.name, INTERNAL_CONTEXT, extension, 1)

    # --- three-party calls (三方通话) ------------------------------------------------------

    def _three_party_service(self) -> ThreePartyService:
        if self.three_party is None:
            raise PbxUnavailable("pbx-not-configured", "电话系统未配置，无法发起三方通话")
        return self.three_party

    def three_party_call(self, username: str) -> ThreePartyCall | None:
        """The agent's current (or just ended) three-party call, as this process steers it."""
        service = self.three_party
        if service is None:
            return None
        member = self.member(username)
        if member is None:
            return None
        prefix = f"{member.interface}-"
        calls = [c for c in service.calls.values() if c.agent_channel.startswith(prefix)]
        live = [c for c in calls if c.state is not ThreePartyState.ENDED]
        if live:
            return live[-1]
        return calls[-1] if calls else None

    def _live_three_party(self, username: str) -> ThreePartyCall:
        call = self.three_party_call(username)
        if call is None or call.state is ThreePartyState.ENDED:
            raise NotInCall("no-three-party-call", "当前没有进行中的三方通话", username=username)
        return call

    async def start_three_party(self, username: str, unit_number: str) -> ThreePartyCall:
        channel, _ = self._call(username)
        self.ami  # noqa: B018 - raises when the PBX is not connected
        return await self._three_party_service().start(channel.uniqueid, unit_number)

    async def retry_unit(self, username: str, unit_number: str | None = None) -> ThreePartyCall:
        call = self._live_three_party(username)
        return await self._three_party_service().invite_unit(call, unit_number)

    async def drop_out(self, username: str) -> ThreePartyCall:
        """The agent leaves; citizen and unit stay connected."""
        call = self._live_three_party(username)
        return await self._three_party_service().drop_agent(call)

    async def release_unit(self, username: str) -> ThreePartyCall:
        """Back to two parties: the unit leaves the room, citizen and agent talk on."""
        call = self._live_three_party(username)
        if call.unit is None or call.state is not ThreePartyState.THREE_PARTY:
            raise AgentConflict("unit-not-in-call", "承办单位不在通话中", room=call.room)
        unit = self.ami.model.channels.get(call.unit)
        await self.ami.confbridge_kick(call.room, unit.name if unit else call.unit_channel or "")
        await self._until(lambda: call.state is not ThreePartyState.THREE_PARTY)
        return call

    # --- supervision (班长) -----------------------------------------------------------------

    async def force_pause(self, username: str, reason: str) -> QueueMemberState:
        if self.member(username) is None:
            raise NoSuchAgent("agent-not-signed-in", "该坐席未签入", username=username)
        return await self.pause(username, reason)

    async def listen(
        self, username: str, supervisor_interface: str, ring_timeout: float = 30.0
    ) -> OriginateResult:
        """监听: ring the supervisor's phone and let it listen to the agent's calls (ChanSpy, quiet)."""
        if not valid_interface(supervisor_interface):
            raise BadTarget("invalid-interface", "班长话机接口格式无效（如 PJSIP/1901）")
        member = self.member(username)
        if member is None:
            raise NoSuchAgent("agent-not-signed-in", "该坐席未签入", username=username)
        return await self.ami.originate_answered(
            supervisor_interface,
            application="ChanSpy",
            data=f"{member.interface},qE",
            caller_id=f'"监听 {username}" <12345>',
            ring_timeout=ring_timeout,
        )


def _paused(member: QueueMemberState | None) -> bool:
    return member is not None and member.paused


def _paused_with(member: QueueMemberState | None, reason: str) -> bool:
    return member is not None and member.paused and (member.paused_reason in (reason, "") or reason == WRAPUP)
