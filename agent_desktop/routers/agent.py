"""The agent's telephony (坐席): sign-in, pauses, the call, three-party calls, the state snapshot."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from pbx.three_party import UnitUnreachableError

from ..agents.deps import AgentsDep, AgentUser, RuntimeDep
from ..agents.errors import BadTarget, NotInCall
from ..agents.recording import link_call
from ..agents.runtime import PbxRuntime
from ..agents.schemas import CallLinkIn, LoginIn, PauseIn, ThreePartyIn, TransferIn
from ..agents.state import AGENT_PAUSE_REASONS, STATE_LABELS, agent_view, pause_label
from ..deps import ActorDep, DirectoryDep, OrdersDep, SessionDep
from ..errors import responses

router = APIRouter(prefix="/agent", tags=["agent 坐席"])

ERR = responses(401, 403, 409, 422)


def _view(agents: AgentsDep, username: str) -> dict[str, Any]:
    call = agents.agent_channel(username)
    return agent_view(
        username, agents.member(username), on_call=call is not None and call.is_up
    ).to_public_dict()


@router.get("/state", responses=responses(401, 403))
async def state(user: AgentUser, runtime: RuntimeDep, agents: AgentsDep) -> dict[str, Any]:
    """坐席状态快照：状态、当前通话、弹屏、队列统计 (what a reconnecting desktop restores)."""
    if runtime is None:
        return {
            "agent": agent_view(user.username, None).to_public_dict(),
            "call": None,
            "screen_pop": None,
            "queue": None,
            "three_party": None,
            "pbx_connected": False,
            "pbx_configured": False,
        }
    snapshot = await runtime.hub.snapshot(user.username)
    local = agents.member(user.username)
    if local is not None or runtime.ami.is_connected:
        # this process's own model is the fresher one right after a command
        snapshot["agent"] = _view(agents, user.username) if local is not None else snapshot["agent"]
    snapshot["pbx_connected"] = runtime.ami.is_connected
    snapshot["pbx_configured"] = True
    return snapshot


@router.get("/pause-reasons", responses=responses(401, 403))
async def pause_reasons(user: AgentUser) -> dict[str, Any]:
    """示忙原因与坐席状态的中文名称。"""
    return {
        "reasons": [{"code": code, "label": pause_label(code)} for code in AGENT_PAUSE_REASONS],
        "states": {state.value: label for state, label in STATE_LABELS.items()},
    }


@router.post("/login", responses=ERR)
async def login(body: LoginIn, user: AgentUser, agents: AgentsDep) -> dict[str, Any]:
    """签入队列 (QueueAdd of the agent's phone)."""
    await agents.login(user.username, body.interface)
    return _view(agents, user.username)


@router.post("/logout", responses=ERR)
async def logout(user: AgentUser, agents: AgentsDep) -> dict[str, Any]:
    """签出 (QueueRemove)."""
    await agents.logout(user.username)
    return _view(agents, user.username)


@router.post("/pause", responses=ERR)
async def pause(body: PauseIn, user: AgentUser, agents: AgentsDep) -> dict[str, Any]:
    """示忙（小休、培训、话后整理……）."""
    await agents.pause(user.username, body.reason)
    return _view(agents, user.username)


@router.post("/resume", responses=ERR)
async def resume(user: AgentUser, agents: AgentsDep) -> dict[str, Any]:
    """示闲（也可提前结束话后整理）."""
    await agents.resume(user.username)
    return _view(agents, user.username)


@router.post("/hangup", responses=ERR)
async def hang_up(user: AgentUser, agents: AgentsDep) -> dict[str, Any]:
    """挂断当前通话。"""
    await agents.hang_up(user.username)
    return {"ok": True}


@router.post("/transfer", responses=ERR)
async def transfer(body: TransferIn, user: AgentUser, agents: AgentsDep) -> dict[str, Any]:
    """转接：市民回到队列，或转给另一坐席的分机 (Redirect)."""
    await agents.transfer(user.username, extension=body.extension if body.to == "agent" else None)
    return {"ok": True}


@router.post("/three-party", responses=ERR)
async def start_three_party(
    body: ThreePartyIn, user: AgentUser, agents: AgentsDep, directory: DirectoryDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """三方通话：呼叫单位加入当前通话。

    单位未接通时返回 409 ``three-party-unit-unreachable``，市民与坐席仍在通话。"""
    number = body.number
    if body.unit_id is not None:
        unit = await directory.get_unit(body.unit_id)
        number = "".join(ch for ch in unit.phone if ch.isdigit())
        if not number:
            raise BadTarget("unit-without-phone", f"单位“{unit.name}”未登记电话号码", unit_id=unit.id)
    assert number is not None
    try:
        call = await agents.start_three_party(user.username, number)
    except UnitUnreachableError as exc:
        await _tell(runtime, user.username, agents, exc.message)
        raise
    await _tell(runtime, user.username, agents)
    return call.to_public_dict()


async def _tell(runtime: PbxRuntime | None, username: str, agents: AgentsDep, message: str = "") -> None:
    """The three-party outcome on the agent's live channel too (every open desktop of the agent)."""
    call = agents.three_party_call(username)
    if runtime is not None and call is not None:
        event = {"type": "three_party", "call": call.to_public_dict(), "message": message or None}
        await runtime.hub.send_to(username, event)


@router.post("/three-party/retry", responses=ERR)
async def retry_three_party(user: AgentUser, agents: AgentsDep, runtime: RuntimeDep) -> dict[str, Any]:
    """再次呼叫单位。"""
    try:
        call = await agents.retry_unit(user.username)
    except UnitUnreachableError as exc:
        await _tell(runtime, user.username, agents, exc.message)
        raise
    await _tell(runtime, user.username, agents)
    return call.to_public_dict()


@router.post("/three-party/leave", responses=ERR)
async def leave_three_party(user: AgentUser, agents: AgentsDep) -> dict[str, Any]:
    """坐席退出，市民与单位继续通话。"""
    return (await agents.drop_out(user.username)).to_public_dict()


@router.post("/three-party/release-unit", responses=ERR)
async def release_unit(user: AgentUser, agents: AgentsDep) -> dict[str, Any]:
    """恢复双方通话：单位退出，市民与坐席继续。"""
    return (await agents.release_unit(user.username)).to_public_dict()


@router.post("/call-link", responses=responses(401, 403, 404, 409, 422))
async def call_link(
    body: CallLinkIn,
    user: AgentUser,
    actor: ActorDep,
    runtime: RuntimeDep,
    orders: OrdersDep,
    session: SessionDep,
) -> dict[str, Any]:
    """把当前（或刚结束的）通话的录音关联到工单，记入工单审计记录（``call_recording``）。"""
    await orders.get(body.order_number, actor)  # 404 / 403 as for reading the order
    call = None
    if runtime is not None:
        call = runtime.hub.tracker.call_of(user.username) or runtime.hub.last_calls.get(user.username)
    if call is None:
        raise NotInCall("no-call", "当前没有可关联的通话")
    details = await link_call(session, number=body.order_number, call=call, actor=actor, at=orders.now())
    return {"order_number": body.order_number, **details}
