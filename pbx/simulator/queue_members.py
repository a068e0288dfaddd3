"""Queue members (坐席): QueueAdd, QueuePause and QueueRemove as app_queue answers them, and the
member's state as calls come and go (``QueueMember*`` events, the queue's device states)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from pbx.simulator.world import SimMember

if TYPE_CHECKING:
    from pbx.simulator.scenario_engine import ScenarioEngine


class QueueMembers:
    def __init__(self, engine: ScenarioEngine) -> None:
        self.engine = engine
        self._paused_devices: set[str] = set()

    def add(
        self,
        queue_name: str,
        interface: str,
        member_name: str = "",
        state_interface: str = "",
        penalty: int = 0,
        paused: bool = False,
        reason: str = "",
    ) -> tuple[bool, str]:
        world = self.engine.world
        queue = world.queues.get(queue_name)
        if queue is None:
            return False, "Unable to add interface to queue: No such queue"
        if interface in queue.members:
            return False, "Unable to add interface: Already there"
        member = SimMember(
            queue_name,
            interface,
            member_name or interface,
            state_interface or interface,
            penalty,
            paused=paused,
            paused_reason=reason if paused else "",
        )
        queue.members[interface] = member
        pause_device = f"Queue:{queue_name}_pause_{interface}"
        if pause_device not in self._paused_devices:
            self._paused_devices.add(pause_device)
            world.device_state(pause_device, "INUSE" if paused else "NOT_INUSE")
        world.member_event("QueueMemberAdded", member)
        self.avail(queue_name)
        self.engine.wake_queue(queue_name)
        return True, "Added interface to queue"

    def pause(
        self, queue_name: str | None, interface: str, paused: bool, reason: str = ""
    ) -> tuple[bool, str]:
        world = self.engine.world
        members = [
            q.members[interface]
            for q in world.queues.values()
            if interface in q.members and queue_name in (None, "", q.name)
        ]
        if not members:
            return False, "Interface not found"
        for member in members:
            member.paused = paused
            member.paused_reason = reason if paused else ""
            if paused:
                member.last_pause = int(time.time())
            world.device_state(f"Queue:{member.queue}_pause_{interface}", "INUSE" if paused else "NOT_INUSE")
            self.avail(member.queue)
            world.member_event("QueueMemberPause", member)
            self.engine.wake_queue(member.queue)
        return True, "Interface paused successfully" if paused else "Interface unpaused successfully"

    def remove(self, queue_name: str, interface: str) -> tuple[bool, str]:
        world = self.engine.world
        queue = world.queues.get(queue_name)
        if queue is None:
            return False, "Unable to remove interface from queue: No such queue"
        member = queue.members.pop(interface, None)
        if member is None:
            return False, "Unable to remove interface: Not there"
        world.member_event("QueueMemberRemoved", member)
        self.avail(queue_name)
        return True, "Removed interface from queue"

    def status(self, member: SimMember) -> None:
        self.engine.world.member_event("QueueMemberStatus", member)

    def avail(self, queue_name: str) -> None:
        """The ``Queue:<name>_avail`` device: in use when no member is free."""
        queue = self.engine.world.queues[queue_name]
        free = any(not m.paused and not m.in_call for m in queue.members.values())
        self.engine.world.device_state(f"Queue:{queue_name}_avail", "NOT_INUSE" if free else "INUSE")

    def free(self, member: SimMember, queue_name: str) -> None:
        """The member's call ended: free again, and the queue's callers may be offered."""
        member.in_call = False
        member.calls_taken += 1
        member.last_call = int(time.time())
        self.engine.world.device_state(member.interface, "NOT_INUSE")
        self.status(member)
        self.engine.wake_queue(queue_name)
