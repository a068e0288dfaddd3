"""The call's recording reference on the work order registered during the call (通话录音关联).

Asterisk records every citizen's call from the moment it is answered (``minhu-sub-record`` in
``deploy/asterisk/extensions.conf``: ``MixMonitor`` of the citizen's channel into
``${MINHU_RECORDINGS_DIR}/<yyyy>/<mm>/<dd>/in-${UNIQUEID}.wav``; the recording goes on in a
three-party room). The file name is therefore known from the citizen's channel alone:
``in-<uniqueid>.wav``, unique per call; the dated folder is where the recording starts.

The work-order model has no field for it: the link is an entry of the order's audit trail
(action ``call_recording``, details: linkedid, the recording reference, the agent's interface),
written by ``POST /api/v1/agent/call-link`` and read back with ``GET /orders/{number}/audit``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from minhu.db.models import AuditRow, WorkOrderRow
from workorders.model import Actor

from .calls import AgentCall

AUDIT_ACTION = "call_recording"


def recording_reference(call: AgentCall) -> str:
    """``in-<uniqueid of the citizen's channel>.wav`` (see the module's docstring)."""
    return f"in-{call.caller_uniqueid or call.linkedid}.wav"


async def link_call(
    session: AsyncSession, *, number: str, call: AgentCall, actor: Actor, at: Any, via: str = "api"
) -> dict[str, Any]:
    """Append the call's reference to the order's audit trail; the details written."""
    t = WorkOrderRow
    row = (await session.execute(select(t.id, t.state).where(t.number == number))).one()
    details: dict[str, Any] = {
        "linkedid": call.linkedid,
        "caller_uniqueid": call.caller_uniqueid or call.linkedid,
        "recording": recording_reference(call),
        "interface": call.interface,
        "answered_at": call.answered_at,
    }
    session.add(
        AuditRow(
            order_id=row.id,
            order_number=number,
            action=AUDIT_ACTION,
            at=at,
            actor_id=actor.user_id,
            actor_name=actor.name,
            actor_role=actor.role.value,
            actor_unit_id=actor.unit_id,
            via=via,
            from_state=row.state,
            to_state=row.state,
            details=details,
        )
    )
    await session.commit()
    return details
