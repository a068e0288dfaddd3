"""The three-party call (三方通话): an agent brings a government unit's phone into a citizen's call.

How (as recorded on Asterisk 22 in ``c-three-party-confbridge`` and set2's
``c-three-party-redirect-into-confbridge``):

1. ``Setvar`` the role (``citizen``, ``agent``) on the two bridged legs, so that the dialplan picks
   their ConfBridge user profiles (the citizen is the marked user);
2. dual ``Redirect`` of both legs into ``minhu-threeparty,<room>,1``: a ConfBridge room where the
   two go on hearing each other;
3. async ``Originate`` of ``Local/<unit number>@minhu-dial-unit/n`` into the same room with the role
   ``unit``. If the unit does not answer (OriginateResponse Reason 3 no answer, 5 busy, 8
   congestion, 0 unreachable), citizen and agent simply stay together in the room — a two-party
   call again — and the agent is told with ``UnitUnreachableError``; ``invite_unit`` may try again;
4. ``ConfbridgeKick`` of the agent lets the agent drop out while citizen and unit talk on.

The state of each call is read from the live model only (ConfbridgeJoin/Leave, Hangup), so that
hang-ups from any side are followed: the unit hanging up with the agent still in the room is a
two-party call again; when the citizen is left alone in the room, the service ends the call for
the citizen (by default kicks them out of the room so that the dialplan plays the satisfaction
rating); when the citizen hangs up, Asterisk's profiles take agent and unit out (``end_marked``)
and the service hangs up whatever is left after a grace period.

The service never reads a socket: it uses ``AmiConnection``'s typed actions and its model.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from pbx.call_model import CallModel, Channel, ConferenceChanged, ConferenceEnded, ModelChange
from pbx.dialplan_names import (
    DIAL_UNIT_CONTEXT,
    HOTLINE_NUMBER,
    THREE_PARTY_CONTEXT,
    THREE_PARTY_ROLE_VARIABLE,
)
from pbx.exceptions import AmiActionError, AmiActionTimeoutError, PbxError
from pbx.manager import AmiConnection

log = logging.getLogger(__name__)

HOTLINE_CALLER_ID: Final = f'"12345热线" <{HOTLINE_NUMBER}>'
"""Caller ID the unit's phone shows (as in the recordings). Not in ``dialplan_names``: Asterisk's
configuration never reads it."""

ROLE_CITIZEN: Final = "citizen"
ROLE_AGENT: Final = "agent"
ROLE_UNIT: Final = "unit"

_UNIT_NUMBER = re.compile(r"^\d{3,20}$")

UNREACHED_TEXT: Final = {0: "无法接通", 1: "对方已挂断", 3: "无人接听", 5: "忙线", 8: "线路拥塞"}
"""What the agent reads when the unit's phone was not answered, by OriginateResponse Reason."""


def unit_dial_channel(number: str) -> str:
    """The Originate channel of a unit's phone: ``Local/<number>@minhu-dial-unit/n``."""
    return f"Local/{number}@{DIAL_UNIT_CONTEXT}/n"


# --- errors -----------------------------------------------------------------------------------


class ThreePartyError(PbxError):
    error_id = "three-party-failed"


class NoBridgedCallError(ThreePartyError):
    """The agent's channel is not in a two-party bridge with a citizen."""

    error_id = "three-party-no-bridged-call"


class InvalidUnitNumberError(ThreePartyError):
    error_id = "three-party-invalid-unit-number"


class UnitUnreachableError(ThreePartyError):
    """The unit's phone was not answered; citizen and agent are still talking."""

    error_id = "three-party-unit-unreachable"


class UnitNotInCallError(ThreePartyError):
    """The agent may only drop out once the unit is in the room with the citizen."""

    error_id = "three-party-unit-absent"


class ThreePartyStateError(ThreePartyError):
    """The action does not fit the call's current state (e.g. the call is over)."""

    error_id = "three-party-wrong-state"


class JoinTimeoutError(ThreePartyError):
    error_id = "three-party-join-timeout"


# --- the call ---------------------------------------------------------------------------------


class ThreePartyState(StrEnum):
    JOINING = "joining"
    """Legs are being moved into the room and the unit's phone rings."""
    TWO_PARTY = "two_party"
    """Citizen and agent in the room, no unit (it did not answer, or hung up)."""
    THREE_PARTY = "three_party"
    CITIZEN_AND_UNIT = "citizen_and_unit"
    """The agent dropped out; citizen and unit talk on."""
    ENDED = "ended"


class CitizenAlone(StrEnum):
    """What to do when the citizen is left alone in the room."""

    RATE = "rate"
    """ConfbridgeKick: the citizen's leg goes on to the satisfaction rating (minhu-satisfaction)."""
    HANG_UP = "hang_up"


@dataclass
class ThreePartyCall:
    """三方通话: one ConfBridge room with the citizen, the agent and a unit (承办单位)."""

    room: str
    citizen: str
    """Uniqueid of the citizen's leg (the one that was bridged with the agent)."""
    agent: str
    citizen_channel: str
    agent_channel: str
    unit_number: str = ""
    unit: str | None = None
    unit_channel: str | None = None
    state: ThreePartyState = ThreePartyState.JOINING
    unit_failure: int | None = None
    """OriginateResponse Reason of the last unanswered invitation."""
    seen_in_room: set[str] = field(default_factory=set)
    inviting: bool = False
    alone_check: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False, compare=False)

    def to_public_dict(self) -> dict[str, Any]:
        return {
            "room": self.room,
            "state": self.state.value,
            "unit_number": self.unit_number,
            "unit_failure": UNREACHED_TEXT.get(self.unit_failure, "未接通")
            if self.unit_failure is not None
            else None,
        }


# --- the service ------------------------------------------------------------------------------


class ThreePartyService:
    """Starts and steers three-party calls over one ``AmiConnection``."""

    def __init__(
        self,
        ami: AmiConnection,
        *,
        join_timeout: float = 10.0,
        unit_ring_timeout: float = 30.0,
        alone_grace: float = 1.0,
        citizen_alone: CitizenAlone = CitizenAlone.RATE,
        caller_id: str = HOTLINE_CALLER_ID,
        rng: random.Random | None = None,
    ) -> None:
        self.ami = ami
        self.join_timeout = join_timeout
        self.unit_ring_timeout = unit_ring_timeout
        self.alone_grace = alone_grace
        self.citizen_alone = citizen_alone
        self.caller_id = caller_id
        self._rng = rng or random.Random()  # noqa: S311 - room numbers, not secrets
        self.calls: dict[str, ThreePartyCall] = {}
        """Calls by room, ended ones included until ``forget``."""
        self._changed = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        ami.on_changes(self._on_changes)

    @property
    def model(self) -> CallModel:
        return self.ami.model

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def forget(self, call: ThreePartyCall) -> None:
        self.calls.pop(call.room, None)

    # --- actions ---------------------------------------------------------------------------

    async def start(
        self, agent_uniqueid: str, unit_number: str, *, room: str | None = None
    ) -> ThreePartyCall:
        """Bring ``unit_number`` into the agent's call with a citizen; return once all three are
        in the room. Raises ``UnitUnreachableError`` (citizen and agent still together) if the
        unit does not answer."""
        number = _checked_number(unit_number)
        agent, citizen = self._bridged_pair(agent_uniqueid)
        room = room or self._new_room()
        call = ThreePartyCall(
            room=room,
            citizen=citizen.uniqueid,
            agent=agent.uniqueid,
            citizen_channel=citizen.name,
            agent_channel=agent.name,
            unit_number=number,
        )
        self.calls[room] = call
        async with call.lock:
            try:
                await self.ami.setvar(THREE_PARTY_ROLE_VARIABLE, ROLE_CITIZEN, channel=citizen.name)
                await self.ami.setvar(THREE_PARTY_ROLE_VARIABLE, ROLE_AGENT, channel=agent.name)
                await self.ami.redirect(citizen.name, THREE_PARTY_CONTEXT, room, 1, extra_channel=agent.name)
            except PbxError:
                self.calls.pop(room, None)
                raise
            log.info("three-party room %s: %s and %s redirected", room, citizen.name, agent.name)
            await self._invite(call, number)
        return call

    async def invite_unit(self, call: ThreePartyCall, unit_number: str | None = None) -> ThreePartyCall:
        """Ring a unit (again) into a room where citizen and agent talk as two parties."""
        number = _checked_number(unit_number or call.unit_number)
        async with call.lock:
            if call.state is not ThreePartyState.TWO_PARTY:
                raise ThreePartyStateError("只有市民与坐席双方通话时才能邀请单位", state=call.state.value)
            await self._invite(call, number)
        return call

    async def drop_agent(self, call: ThreePartyCall) -> ThreePartyCall:
        """The agent leaves; citizen and unit stay connected."""
        async with call.lock:
            if call.state is ThreePartyState.ENDED:
                raise ThreePartyStateError("三方通话已结束", room=call.room)
            if not (self._in_room(call, call.citizen) and call.unit and self._in_room(call, call.unit)):
                raise UnitNotInCallError("承办单位尚未加入通话，坐席不能退出", room=call.room)
            await self.ami.confbridge_kick(call.room, self._name(call.agent, call.agent_channel))
            await self._wait(lambda: not self._in_room(call, call.agent), "坐席未能退出三方通话", call)
            self._settle(call)
            log.info("three-party room %s: agent dropped out, citizen and unit stay", call.room)
        return call

    async def hang_up(self, call: ThreePartyCall) -> None:
        """End the whole call: every leg still in the room is hung up."""
        async with call.lock:
            for uniqueid, name in self._legs(call):
                await self._hangup_quietly(uniqueid, name)
            await self._wait(lambda: call.state is ThreePartyState.ENDED, "三方通话未能结束", call)

    # --- internals -------------------------------------------------------------------------

    def _bridged_pair(self, agent_uniqueid: str) -> tuple[Channel, Channel]:
        model = self.model
        agent = model.channels.get(agent_uniqueid)
        bridge = model.bridge_of(agent_uniqueid)
        if agent is None or bridge is None or len(bridge.channels) != 2:
            raise NoBridgedCallError("坐席当前没有与市民的双方通话", agent=agent_uniqueid)
        other = next(uid for uid in bridge.channels if uid != agent_uniqueid)
        citizen = model.channels.get(other)
        if citizen is None:
            raise NoBridgedCallError("坐席当前没有与市民的双方通话", agent=agent_uniqueid)
        for call in self.calls.values():
            if call.state is not ThreePartyState.ENDED and {call.citizen, call.agent} & {
                other,
                agent_uniqueid,
            }:
                raise ThreePartyStateError("该通话已在三方通话中", room=call.room)
        return agent, citizen

    def _new_room(self) -> str:
        while True:
            room = str(self._rng.randrange(100_000, 1_000_000))
            if room not in self.calls and room not in self.model.conferences:
                return room

    async def _invite(self, call: ThreePartyCall, number: str) -> None:
        call.unit_number = number
        call.inviting = True
        try:
            await self._ring_unit(call, number)
        finally:
            call.inviting = False
            if call.state is ThreePartyState.JOINING:
                # joining is over, however it went: from now on the model says who is in the room
                call.state = ThreePartyState.TWO_PARTY
            self._settle(call)

    async def _ring_unit(self, call: ThreePartyCall, number: str) -> None:
        try:
            result = await self.ami.originate(
                unit_dial_channel(number),
                context=THREE_PARTY_CONTEXT,
                exten=call.room,
                priority=1,
                caller_id=self.caller_id,
                variables={THREE_PARTY_ROLE_VARIABLE: ROLE_UNIT},
                ring_timeout=self.unit_ring_timeout,
            )
        except (AmiActionError, AmiActionTimeoutError) as exc:
            call.unit_failure = 0
            raise UnitUnreachableError(
                "承办单位电话未接通（无法呼出），市民与坐席仍在通话", reason=None, unit=number, room=call.room
            ) from exc
        if not result.answered:
            call.unit_failure = result.reason
            call.unit, call.unit_channel = None, None
            text = UNREACHED_TEXT.get(result.reason, f"原因 {result.reason}")
            log.info("three-party room %s: unit %s not reached (%s)", call.room, number, result.reason_text)
            raise UnitUnreachableError(
                f"承办单位电话未接通（{text}），市民与坐席仍在通话",
                reason=result.reason,
                unit=number,
                room=call.room,
            )
        call.unit_failure = None
        call.unit, call.unit_channel = result.uniqueid, result.channel
        unit = call.unit
        await self._wait(
            lambda: (
                (self._in_room(call, call.citizen) and self._in_room(call, unit))
                or call.state is ThreePartyState.ENDED
            ),
            "市民或单位未能进入三方通话",
            call,
        )
        log.info("three-party room %s: unit %s joined", call.room, number)

    async def _wait(self, predicate: Callable[[], bool], message: str, call: ThreePartyCall) -> None:
        try:
            async with asyncio.timeout(self.join_timeout):
                while not predicate():
                    await self._changed.wait()
        except TimeoutError:
            raise JoinTimeoutError(message, room=call.room, state=call.state.value) from None

    def _members(self, call: ThreePartyCall) -> frozenset[str]:
        conference = self.model.conferences.get(call.room)
        return conference.members if conference is not None else frozenset()

    def _in_room(self, call: ThreePartyCall, uniqueid: str) -> bool:
        return uniqueid in self._members(call)

    def _name(self, uniqueid: str, fallback: str) -> str:
        channel = self.model.channels.get(uniqueid)
        return channel.name if channel is not None else fallback

    def _legs(self, call: ThreePartyCall) -> list[tuple[str, str]]:
        legs = [
            (call.unit, call.unit_channel or ""),
            (call.agent, call.agent_channel),
            (call.citizen, call.citizen_channel),
        ]
        return [
            (uid, self._name(uid, name))
            for uid, name in legs
            if uid is not None and uid in self.model.channels
        ]

    async def _hangup_quietly(self, uniqueid: str, name: str) -> None:
        try:
            await self.ami.hangup(name)
        except AmiActionError as exc:  # gone meanwhile: "No such channel"
            log.info("three-party: hangup of %s (%s) answered %s", name, uniqueid, exc)

    # --- following the model ---------------------------------------------------------------

    def _on_changes(self, changes: list[ModelChange]) -> None:
        event, self._changed = self._changed, asyncio.Event()
        event.set()
        if not self.calls:
            return
        for change in changes:
            if isinstance(change, ConferenceChanged) and change.conference.name in self.calls:
                self.calls[change.conference.name].seen_in_room.update(change.conference.members)
        for call in self.calls.values():
            if call.state is not ThreePartyState.ENDED:
                ended = any(
                    isinstance(c, ConferenceEnded) and c.conference.name == call.room for c in changes
                )
                self._settle(call, conference_ended=ended)

    def _settle(self, call: ThreePartyCall, conference_ended: bool = False) -> None:
        """Derive the state from the model (after anything changed)."""
        if call.state is ThreePartyState.ENDED:
            return
        members = self._members(call)
        citizen_alive = call.citizen in self.model.channels
        citizen_left = call.citizen in call.seen_in_room and call.citizen not in members
        if not citizen_alive or citizen_left or conference_ended:
            call.state = ThreePartyState.ENDED
            log.info("three-party room %s ended", call.room)
            if members - {call.citizen}:
                self._spawn(self._clean_up_after(call))
            return
        if call.state is ThreePartyState.JOINING:
            return  # start()/_invite() decide when joining is over
        agent_in = call.agent in members
        unit_in = call.unit is not None and call.unit in members
        if agent_in and unit_in:
            call.state = ThreePartyState.THREE_PARTY
        elif unit_in:
            call.state = ThreePartyState.CITIZEN_AND_UNIT
        elif agent_in:
            call.state = ThreePartyState.TWO_PARTY
        elif call.citizen in members and not call.inviting and not call.alone_check:
            call.alone_check = True
            self._spawn(self._citizen_alone(call))

    async def _citizen_alone(self, call: ThreePartyCall) -> None:
        try:
            await asyncio.sleep(self.alone_grace)
        finally:
            call.alone_check = False
        members = self._members(call)
        if call.state is ThreePartyState.ENDED or call.inviting or members != {call.citizen}:
            return
        name = self._name(call.citizen, call.citizen_channel)
        log.info("three-party room %s: the citizen is alone; %s", call.room, self.citizen_alone.value)
        if self.citizen_alone is CitizenAlone.RATE:
            with contextlib.suppress(AmiActionError):
                await self.ami.confbridge_kick(call.room, name)
        else:
            await self._hangup_quietly(call.citizen, name)

    async def _clean_up_after(self, call: ThreePartyCall) -> None:
        """The citizen is gone: the profiles take agent and unit out; hang up any who stay."""
        await asyncio.sleep(self.alone_grace)
        for uniqueid, name in self._legs(call):
            if uniqueid != call.citizen and self._in_room(call, uniqueid):
                await self._hangup_quietly(uniqueid, name)

    def _spawn(self, coroutine: Any) -> None:
        async def guarded() -> None:
            try:
                await coroutine
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("three-party background step failed")

        task = asyncio.get_running_loop().create_task(guarded(), name="three-party")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _checked_number(number: str) -> str:
    number = number.strip()
    if not _UNIT_NUMBER.match(number):
        raise InvalidUnitNumberError("单位电话号码无效：只能是3到20位数字", number=number)
    return number
