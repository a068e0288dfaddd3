"""After-call work (话后整理): after each queue call the agent is paused with reason ``wrapup`` for
``seconds``, then made available again — unless the agent (or a supervisor) changed the pause
meanwhile. Runs in the one process that publishes the PBX state (the leader), so that one call
gives one pause, whatever the number of API workers.

Asterisk keeps the pause; only the timer is Minhu's. When the leader starts (or takes over) it
gives every member found paused for wrap-up a fresh timer, so nobody stays in wrap-up forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from pbx.call_model import AgentAnswered, ChannelGone, ModelChange
from pbx.dialplan_names import INBOUND_QUEUE
from pbx.exceptions import PbxError
from pbx.manager import AmiConnection

from .state import WRAPUP

log = logging.getLogger(__name__)

Notify = Callable[[str, dict[str, Any]], None]


class WrapUp:
    def __init__(
        self, ami: AmiConnection, seconds: float, notify: Notify | None = None, *, queue: str = INBOUND_QUEUE
    ) -> None:
        self.ami = ami
        self.seconds = seconds
        self.queue = queue
        self.notify = notify
        self.active = False
        self._answered: dict[str, tuple[str, str]] = {}
        """Agent leg Uniqueid → (interface, member name) of calls answered from the queue."""
        self._timers: dict[str, asyncio.Task[None]] = {}
        ami.on_changes(self._on_changes)

    def activate(self) -> None:
        """Become the one process that runs wrap-up (the leader)."""
        if self.active:
            return
        self.active = True
        for member in self.ami.model.members_of(self.queue):
            if member.paused and member.paused_reason == WRAPUP:
                self._arm(member.interface, member.member_name)

    def deactivate(self) -> None:
        self.active = False
        for task in self._timers.values():
            task.cancel()
        self._timers.clear()

    async def aclose(self) -> None:
        tasks = list(self._timers.values())
        self.deactivate()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _on_changes(self, changes: list[ModelChange]) -> None:
        for change in changes:
            if isinstance(change, AgentAnswered) and change.queue == self.queue:
                self._answered[change.agent_uniqueid] = (change.interface, change.member_name)
            elif isinstance(change, ChannelGone):
                ended = self._answered.pop(change.channel.uniqueid, None)
                if ended is not None and self.active and self.seconds > 0:
                    self._start(*ended)

    def _start(self, interface: str, username: str) -> None:
        previous = self._timers.pop(interface, None)
        if previous is not None:
            previous.cancel()
        task = asyncio.get_running_loop().create_task(self._run(interface, username, pause=True))
        self._timers[interface] = task
        task.add_done_callback(lambda t: self._forget(interface, t))

    def _arm(self, interface: str, username: str) -> None:
        task = asyncio.get_running_loop().create_task(self._run(interface, username, pause=False))
        self._timers[interface] = task
        task.add_done_callback(lambda t: self._forget(interface, t))

    def _forget(self, interface: str, task: asyncio.Task[None]) -> None:
        if self._timers.get(interface) is task:
            del self._timers[interface]

    def _member(self, interface: str) -> Any:
        return self.ami.model.queue_members.get((self.queue, interface))

    async def _run(self, interface: str, username: str, *, pause: bool) -> None:
        try:
            if pause:
                member = self._member(interface)
                if member is None or member.paused:
                    return  # signed out, or paused for another reason: leave it
                await self.ami.queue_pause(self.queue, interface, True, WRAPUP)
                log.info("wrap-up of %s (%s) for %.0f s", username, interface, self.seconds)
            if self.notify is not None:
                self.notify(
                    username, {"type": "wrapup", "until": time.time() + self.seconds, "seconds": self.seconds}
                )
            await asyncio.sleep(self.seconds)
            member = self._member(interface)
            if member is not None and member.paused and member.paused_reason == WRAPUP:
                await self.ami.queue_pause(self.queue, interface, False)
                log.info("wrap-up of %s (%s) over", username, interface)
        except PbxError as exc:
            log.warning("wrap-up of %s (%s) failed: %s", username, interface, exc)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("wrap-up of %s failed", username)

    async def wait_idle(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.gather(*self._timers.values(), return_exceptions=True)
