"""AMI actions answered from the live simulation (when no recording scripts them).

Originate, Hangup, QueueAdd, QueuePause, QueueRemove, Redirect, Setvar/Getvar and
ConfbridgeKick/ConfbridgeList change or read the simulated calls, queues and rooms through the
``ScenarioEngine``; the responses carry the messages the recordings show
(``Added interface to queue``, ``Unable to remove interface: Not there``, ``Channel Hungup``,
``Originate successfully queued`` ...), and the events follow from the engine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from pbx.ami_protocol import AmiMessage
from pbx.simulator.conference import conference_list_item
from pbx.simulator.scenario_engine import ScenarioEngine
from pbx.simulator.templates import build_event

Send = Callable[[AmiMessage], None]
_TRUE = {"true", "yes", "1", "on", "y", "t"}


class LiveActions:
    def __init__(self, engine: ScenarioEngine) -> None:
        self.engine = engine

    def handle(self, action: AmiMessage, reply: list[tuple[str, str]], send: Send) -> bool:
        """Answer ``action`` if it is one the live simulation handles."""
        handler = {
            "originate": self._originate,
            "hangup": self._hangup,
            "queueadd": self._queue_add,
            "queuepause": self._queue_pause,
            "queueremove": self._queue_remove,
            "redirect": self._redirect,
            "setvar": self._setvar,
            "getvar": self._getvar,
            "confbridgekick": self._confbridge_kick,
            "confbridgelist": self._confbridge_list,
        }.get(action.value("Action").lower())
        if handler is None:
            return False
        handler(action, reply, send)
        return True

    @staticmethod
    def _respond(send: Send, reply: list[tuple[str, str]], ok: bool, message: str) -> None:
        send(AmiMessage((("Response", "Success" if ok else "Error"), *reply, ("Message", message))))

    def _queue_add(self, action: AmiMessage, reply: list[tuple[str, str]], send: Send) -> None:
        interface = action.value("Interface")
        if not interface:
            self._respond(send, reply, False, "'Interface' not specified.")
            return
        penalty = action.value("Penalty")
        # the response goes out before the events, as on Asterisk
        queue = self.engine.world.queues.get(action.value("Queue"))
        if queue is None or interface in queue.members:
            ok, message = self.engine.queue_add(action.value("Queue"), interface)
            self._respond(send, reply, ok, message)
            return
        self._respond(send, reply, True, "Added interface to queue")
        self.engine.queue_add(
            action.value("Queue"),
            interface,
            action.value("MemberName"),
            action.value("StateInterface"),
            int(penalty) if penalty.lstrip("-").isdigit() else 0,
            paused=action.value("Paused").lower() in _TRUE,
            reason=action.value("Reason"),
        )

    def _queue_pause(self, action: AmiMessage, reply: list[tuple[str, str]], send: Send) -> None:
        interface = action.value("Interface")
        paused = action.value("Paused").lower() in _TRUE
        queue = action.get("Queue")
        known = any(
            interface in q.members and queue in (None, "", q.name) for q in self.engine.world.queues.values()
        )
        if not known:
            self._respond(send, reply, False, "Interface not found")
            return
        self._respond(
            send,
            reply,
            True,
            "Interface paused successfully" if paused else "Interface unpaused successfully",
        )
        self.engine.queue_pause(queue, interface, paused, action.value("Reason"))

    def _queue_remove(self, action: AmiMessage, reply: list[tuple[str, str]], send: Send) -> None:
        queue = self.engine.world.queues.get(action.value("Queue"))
        interface = action.value("Interface")
        if queue is None or interface not in queue.members:
            ok, message = self.engine.queue_remove(action.value("Queue"), interface)
            self._respond(send, reply, ok, message)
            return
        self._respond(send, reply, True, "Removed interface from queue")
        self.engine.queue_remove(action.value("Queue"), interface)

    def _hangup(self, action: AmiMessage, reply: list[tuple[str, str]], send: Send) -> None:
        name = action.value("Channel")
        if not name:
            self._respond(send, reply, False, "Channel not specified")
            return
        if self.engine.world.channel_named(name) is None:
            self._respond(send, reply, False, "No such channel")
            return
        self._respond(send, reply, True, "Channel Hungup")
        cause = action.value("Cause")
        self.engine.hangup_action(name, int(cause) if cause.isdigit() else 16)

    def _originate(self, action: AmiMessage, reply: list[tuple[str, str]], send: Send) -> None:
        if not action.value("Channel"):
            self._respond(send, reply, False, "Channel not specified")
            return
        if action.value("Async").lower() in _TRUE:
            self._respond(send, reply, True, "Originate successfully queued")

            def originate_response(values: dict[str, str]) -> None:
                self.engine.world.publish(build_event("OriginateResponse", values))

            self.engine.originate(action, originate_response)
            return
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def sync_result(values: dict[str, str]) -> None:
            if not done.done():
                done.set_result(values.get("Reason") == "4")
            ok = values.get("Reason") == "4"
            self._respond(send, reply, ok, "Originate successfully queued" if ok else "Originate failed")

        self.engine.originate(action, sync_result)

    def _redirect(self, action: AmiMessage, reply: list[tuple[str, str]], send: Send) -> None:
        if not action.value("Channel"):
            self._respond(send, reply, False, "Channel not specified")
            return
        targets = [(action.value("Channel"), _target(action, ""))]
        if action.value("ExtraChannel"):
            targets.append((action.value("ExtraChannel"), _target(action, "Extra")))
        ok, message = self.engine.redirects.redirect(targets)
        self._respond(send, reply, ok, message)

    def _setvar(self, action: AmiMessage, reply: list[tuple[str, str]], send: Send) -> None:
        name = action.value("Channel")
        channel = self.engine.world.channel_named(name) if name else None
        if name and channel is None:
            self._respond(send, reply, False, "Channel not found")
            return
        if not action.value("Variable"):
            self._respond(send, reply, False, "No variable specified")
            return
        self._respond(send, reply, True, "Variable Set")
        if channel is not None:
            self.engine.world.varset(channel, action.value("Variable"), action.value("Value"))

    def _getvar(self, action: AmiMessage, reply: list[tuple[str, str]], send: Send) -> None:
        name = action.value("Channel")
        channel = self.engine.world.channel_named(name) if name else None
        if name and channel is None:
            self._respond(send, reply, False, "No such channel")
            return
        variable = action.value("Variable")
        value = self.engine.interpreter.variable(channel, variable) if channel is not None else None
        send(AmiMessage((("Response", "Success"), *reply, ("Variable", variable), ("Value", value or ""))))

    def _confbridge_kick(self, action: AmiMessage, reply: list[tuple[str, str]], send: Send) -> None:
        ok, message = self.engine.conferences.kick(action.value("Conference"), action.value("Channel"))
        self._respond(send, reply, ok, message)

    def _confbridge_list(self, action: AmiMessage, reply: list[tuple[str, str]], send: Send) -> None:
        room = action.value("Conference")
        members = self.engine.conferences.members(room)
        if not members:
            self._respond(send, reply, False, "No Conference by that name found.")
            return
        send(
            AmiMessage(
                (
                    ("Response", "Success"),
                    *reply,
                    ("EventList", "start"),
                    ("Message", "Confbridge user list will follow"),
                )
            )
        )
        for channel in members:
            send(conference_list_item(room, channel, reply))
        send(
            AmiMessage(
                (
                    ("Event", "ConfbridgeListComplete"),
                    *reply,
                    ("EventList", "Complete"),
                    ("ListItems", str(len(members))),
                )
            )
        )


def _target(action: AmiMessage, prefix: str) -> tuple[str, str, int]:
    priority = action.value(f"{prefix}Priority")
    return (
        action.value(f"{prefix}Context"),
        action.value(f"{prefix}Exten"),
        int(priority) if priority.isdigit() else 1,
    )
