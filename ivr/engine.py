"""The flow interpreter: walks a validated :class:`~ivr.flows.Flow` for one call.

It talks to the caller only through :class:`Line` (play, read keys, say numbers, set a channel
variable), so it knows nothing of sockets; the FastAGI adapter is in :mod:`ivr.server`. The
decisions that need no I/O are plain functions (:func:`deadline_words`, the menu's key
classification, :func:`ivr.hours.service_period`, :func:`ivr.orders.parse_order_number`).

Every call ends in one of: the queue (``MINHU_IVR_NEXT=queue``: a person), a message and a clean
hang-up (``MINHU_IVR_NEXT=hangup``), or the caller's own hang-up; each node, key and ending is
logged with the caller's number masked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Final, Literal, Protocol

import structlog

from ivr.agi import ESCAPE_ALL, CallerHungUp
from ivr.callbacks import CallbackRequest, CallbackRequests
from ivr.flows import (
    CallbackNode,
    Flow,
    HangupNode,
    Hours,
    Menu,
    Node,
    OrderStatusNode,
    Play,
    QueueNode,
)
from ivr.hours import ServiceHours, ServicePeriod, service_period
from ivr.orders import OrderStatus, OrderStatusLookup, parse_order_number
from ivr.waiting import WaitEstimator
from pbx import dialplan_names as names
from workorders.calendar import WorkingCalendar
from workorders.clock import Clock

TOPIC_VARIABLE: Final = "MINHU_IVR_TOPIC"
"""Set with the queue result: what the caller chose (consultation, suggestion, agent ...), for
the agent's screen pop. The dialplan does not read it."""

QUEUE: Final = "queue"
HANGUP: Final = "hangup"

log = structlog.get_logger("ivr")


class Line(Protocol):
    """The caller's line, as the interpreter needs it. Every method raises
    :class:`~ivr.agi.CallerHungUp` once the caller is gone."""

    async def play(self, prompt: str, escape: str = "") -> str | None:
        """Play ``prompt``; a key in ``escape`` stops it and is returned."""
        ...

    async def wait_digit(self, timeout_s: float) -> str | None: ...

    async def get_digits(self, prompt: str, timeout_s: float, max_digits: int) -> str:
        """Prompt (interrupted by the first key, which counts) and keys until ``#``,
        ``max_digits`` keys, or ``timeout_s`` of silence; "" when nothing was keyed."""
        ...

    async def say_digits(self, digits: str) -> None: ...

    async def say_number(self, number: int) -> None: ...

    async def set_variable(self, name: str, value: str) -> None: ...


class CalendarSource(Protocol):
    async def calendar(self) -> WorkingCalendar: ...


class StaticCalendar:
    def __init__(self, calendar: WorkingCalendar) -> None:
        self._calendar = calendar

    async def calendar(self) -> WorkingCalendar:
        return self._calendar


@dataclass(frozen=True)
class IvrServices:
    """What the flows need besides the caller, injected by the composition root."""

    orders: OrderStatusLookup
    callbacks: CallbackRequests
    wait: WaitEstimator
    calendar: CalendarSource
    clock: Clock
    tz: tzinfo
    hours: ServiceHours = field(default_factory=ServiceHours)
    queue: str = names.INBOUND_QUEUE
    max_steps: int = 60
    """A call that walks more nodes than this goes to an agent (a caller stuck in a loop)."""
    service_timeout_s: float = 3.0


@dataclass(frozen=True, slots=True)
class CallInfo:
    call_id: str
    caller: str
    did: str = ""
    script: str = names.AGI_IVR_SCRIPT

    @property
    def masked_caller(self) -> str:
        return mask_number(self.caller)


def mask_number(number: str) -> str:
    """``13800138000`` → ``138****8000``: enough to tell calls apart in a log, not to call back."""
    digits = number.strip()
    if not digits or not any(c.isdigit() for c in digits):
        return digits or "-"
    if len(digits) >= 7:
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    return "*" * max(len(digits) - 2, 1) + digits[-2:]


EndResult = Literal["queue", "hangup", "caller_hung_up"]


@dataclass(frozen=True, slots=True)
class Outcome:
    result: EndResult
    node: str
    topic: str | None = None
    steps: int = 0


@dataclass(frozen=True, slots=True)
class _Go:
    node: str
    key: str | None = None
    """A key pressed during the previous node's prompts, for the next menu (type-ahead)."""


Say = tuple[Literal["prompt", "digits", "number"], str]


def deadline_words(due_at: datetime, prompts: Mapping[str, str]) -> list[Say]:
    """``2026-10-15 18:00`` → 二〇二六年 十月 十五日 十八点 (the year digit by digit, the rest as
    numbers; minutes only when not on the hour). ``due_at`` is already in local time."""
    words: list[Say] = [
        ("digits", f"{due_at.year:04d}"),
        ("prompt", prompts["year"]),
        ("number", str(due_at.month)),
        ("prompt", prompts["month"]),
        ("number", str(due_at.day)),
        ("prompt", prompts["day"]),
        ("number", str(due_at.hour)),
        ("prompt", prompts["hour"]),
    ]
    if due_at.minute:
        words += [("number", str(due_at.minute)), ("prompt", prompts["minute"])]
    return words


def menu_choice(options: Mapping[str, str], key: str | None) -> str | None:
    """The node a key leads to; None for silence or a key the menu does not offer."""
    return None if key is None else options.get(key)


class FlowRunner:
    """Runs one flow for each call it is given."""

    def __init__(self, flow: Flow, services: IvrServices) -> None:
        self.flow = flow
        self.services = services

    async def run(self, line: Line, call: CallInfo) -> Outcome:
        return await _Call(self.flow, self.services, line, call).run()


class _Call:
    def __init__(self, flow: Flow, services: IvrServices, line: Line, call: CallInfo) -> None:
        self.flow, self.services, self.line, self.call = flow, services, line, call
        self.log = log.bind(call_id=call.call_id, caller=call.masked_caller, did=call.did, flow=flow.name)
        self.steps = 0

    async def run(self) -> Outcome:
        go = _Go(self.flow.start)
        guard_fired = False
        try:
            while True:
                self.steps += 1
                if self.steps > self.services.max_steps and not guard_fired:
                    guard_fired = True
                    self.log.warning("ivr.too_many_steps", steps=self.steps, node=go.node)
                    go = _Go(self.flow.agent)
                node = self.flow.nodes[go.node]
                self.log.debug("ivr.node", node=node.id, key=go.key)
                step = await self._step(node, go.key)
                if isinstance(step, Outcome):
                    return step
                go = step
        except CallerHungUp as exc:
            self.log.info("ivr.caller_hung_up", node=go.node, steps=self.steps, detail=str(exc))
            return Outcome("caller_hung_up", go.node, steps=self.steps)

    async def _step(self, node: Node, key: str | None) -> _Go | Outcome:
        if isinstance(node, Hours):
            return await self._hours(node)
        if isinstance(node, Play):
            return await self._play(node)
        if isinstance(node, Menu):
            return await self._menu(node, key)
        if isinstance(node, OrderStatusNode):
            return await self._order_status(node, key)
        if isinstance(node, QueueNode):
            return await self._queue(node)
        if isinstance(node, CallbackNode):
            return await self._callback(node)
        return await self._hangup(node)

    # --- nodes ------------------------------------------------------------------------------

    async def _hours(self, node: Hours) -> _Go:
        now = self.services.clock.now().astimezone(self.services.tz)
        try:
            async with asyncio.timeout(self.services.service_timeout_s):
                calendar = await self.services.calendar.calendar()
        except Exception:
            self.log.exception("ivr.calendar_unavailable", node=node.id)
            return _Go(node.open)  # a person rather than a closed line
        period = service_period(now, calendar, self.services.hours)
        self.log.info("ivr.service_period", node=node.id, period=period.value, at=now.isoformat())
        targets = {
            ServicePeriod.OPEN: node.open,
            ServicePeriod.HOLIDAY: node.holiday,
            ServicePeriod.AFTER_HOURS: node.after_hours,
            ServicePeriod.HOLIDAY_CLOSED: node.holiday_closed,
        }
        return _Go(targets[period])

    async def _play(self, node: Play) -> _Go:
        escape = ESCAPE_ALL if node.interruptible else ""
        for prompt in node.prompt_names:
            key = await self.line.play(prompt, escape)
            if key is not None:
                self.log.info("ivr.typeahead", node=node.id, prompt=prompt, key=key)
                return _Go(node.next, key)
        return _Go(node.next)

    async def _menu(self, node: Menu, key: str | None) -> _Go:
        silent = False
        for attempt in range(1, node.attempts + 1):
            if key is None:
                for prompt in node.prompt_names:
                    key = await self.line.play(prompt, ESCAPE_ALL)
                    if key is not None:
                        break
            if key is None:
                key = await self.line.wait_digit(node.timeout_s)
            target = menu_choice(node.options, key)
            if target is not None:
                self.log.info("ivr.menu_choice", node=node.id, key=key, attempt=attempt, to=target)
                return _Go(target)
            silent = key is None
            self.log.info(
                "ivr.no_input" if silent else "ivr.wrong_key", node=node.id, key=key, attempt=attempt
            )
            feedback = node.no_input_prompt if silent else node.invalid_prompt
            last = attempt == node.attempts
            key = await self.line.play(feedback, "" if last else ESCAPE_ALL)
        target = node.on_no_input if silent else node.on_invalid
        self.log.info("ivr.menu_gave_up", node=node.id, silent=silent, attempts=node.attempts, to=target)
        return _Go(target)

    async def _order_status(self, node: OrderStatusNode, key: str | None) -> _Go:
        if key is not None:
            self.log.info("ivr.typeahead_dropped", node=node.id, key=key)
        silent = False
        for attempt in range(1, node.attempts + 1):
            keyed = await self.line.get_digits(node.prompt, node.timeout_s, node.digits)
            silent = not keyed
            last = attempt == node.attempts
            if silent:
                self.log.info("ivr.no_input", node=node.id, attempt=attempt)
                if not last:
                    await self.line.play(node.no_input_prompt)
                continue
            number = parse_order_number(keyed)
            if number is None:
                self.log.info("ivr.order_number_invalid", node=node.id, keyed=len(keyed), attempt=attempt)
                await self.line.play(node.invalid_prompt)
                continue
            try:
                async with asyncio.timeout(self.services.service_timeout_s):
                    status = await self.services.orders.status(number)
            except Exception:
                self.log.exception("ivr.order_lookup_failed", node=node.id, order=number)
                await self.line.play(node.failed_prompt)
                return _Go(node.on_failure)
            if status is None:
                self.log.info("ivr.order_unknown", node=node.id, order=number, attempt=attempt)
                await self.line.play(node.unknown_prompt)
                continue
            self.log.info(
                "ivr.order_status",
                node=node.id,
                order=number,
                state=status.state.value,
                due_at=status.due_at.isoformat() if status.due_at else None,
            )
            await self._read_back(node, status)
            return _Go(node.next)
        target = node.on_no_input if silent else node.on_unknown
        self.log.info("ivr.order_gave_up", node=node.id, silent=silent, to=target)
        return _Go(target)

    async def _read_back(self, node: OrderStatusNode, status: OrderStatus) -> None:
        """State and deadline, and nothing else (the same for any caller)."""
        await self.line.play(node.state_intro)
        await self.line.play(node.state_prompt(status.state))
        if status.due_at is None or status.state.is_terminal:
            return
        await self.line.play(node.due_intro)
        await self._say(deadline_words(status.due_at.astimezone(self.services.tz), node.date_prompts))

    async def _say(self, words: Sequence[Say]) -> None:
        for kind, value in words:
            if kind == "prompt":
                await self.line.play(value)
            elif kind == "digits":
                await self.line.say_digits(value)
            else:
                await self.line.say_number(int(value))

    async def _queue(self, node: QueueNode) -> Outcome:
        offer = node.callback
        if offer is not None:
            wait = await self._estimated_wait()
            if wait is not None and wait >= offer.min_wait_s:
                self.log.info("ivr.callback_offered", node=node.id, estimated_wait_s=wait)
                key = await self.line.play(offer.prompt, ESCAPE_ALL)
                if key is None:
                    key = await self.line.wait_digit(offer.timeout_s)
                if key == offer.accept_key:
                    if await self._record_callback(node.id, node.topic, wait):
                        await self.line.play(offer.recorded_prompt)
                        return await self._end(HANGUP, node.id, node.topic)
                    await self.line.play(offer.failed_prompt)
                else:
                    self.log.info("ivr.callback_declined", node=node.id, key=key)
        for prompt in node.prompt_names:
            await self.line.play(prompt)
        return await self._end(QUEUE, node.id, node.topic, node.priority)

    async def _callback(self, node: CallbackNode) -> _Go | Outcome:
        if await self._record_callback(node.id, node.topic, None):
            await self.line.play(node.recorded_prompt)
            return await self._end(HANGUP, node.id, node.topic)
        await self.line.play(node.failed_prompt)
        return _Go(node.on_failure)

    async def _hangup(self, node: HangupNode) -> Outcome:
        for prompt in node.prompt_names:
            await self.line.play(prompt)
        return await self._end(HANGUP, node.id)

    # --- helpers ----------------------------------------------------------------------------

    async def _estimated_wait(self) -> float | None:
        try:
            async with asyncio.timeout(self.services.service_timeout_s):
                return await self.services.wait.estimated_wait_s(self.services.queue)
        except Exception:
            self.log.exception("ivr.wait_estimate_failed")
            return None

    async def _record_callback(self, node_id: str, topic: str, wait: float | None) -> bool:
        request = CallbackRequest(
            caller=self.call.caller,
            requested_at=self.services.clock.now(),
            topic=topic,
            call_id=self.call.call_id,
            did=self.call.did,
            estimated_wait_s=wait,
        )
        try:
            async with asyncio.timeout(self.services.service_timeout_s):
                request_id = await self.services.callbacks.record(request)
        except Exception:
            self.log.exception("ivr.callback_not_recorded", node=node_id, topic=topic)
            return False
        self.log.info("ivr.callback_recorded", node=node_id, topic=topic, request_id=request_id)
        return True

    async def _end(
        self, result: Literal["queue", "hangup"], node_id: str, topic: str | None = None, priority: int = 0
    ) -> Outcome:
        await self.line.set_variable(self.flow.next_variable, result)
        if result == QUEUE:
            if self.flow.priority_variable:
                await self.line.set_variable(self.flow.priority_variable, str(priority))
            if topic:
                await self.line.set_variable(TOPIC_VARIABLE, topic)
        return Outcome(result, node_id, topic, self.steps)
