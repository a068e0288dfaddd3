"""The supervisor's seat (班长席): the wallboard, forcing a pause, listening in."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ..agents.deps import AgentsDep, RuntimeDep, SupervisorUser
from ..agents.errors import PbxUnavailable
from ..agents.schemas import ListenIn, PauseIn
from ..agents.state import agent_view
from ..errors import responses

router = APIRouter(prefix="/supervisor", tags=["supervisor 班长席"])

ERR = responses(401, 403, 404, 409, 422)


@router.get("/wallboard", responses=responses(401, 403))
async def wallboard(user: SupervisorUser, runtime: RuntimeDep) -> dict[str, Any]:
    """实时墙板：队列统计与每个坐席的状态和当前通话（来电号码已脱敏）。"""
    if runtime is None:
        raise PbxUnavailable("pbx-not-configured", "电话系统未配置（MINHU_AMI_HOST）")
    return runtime.hub.wallboard()


@router.post("/agents/{username}/pause", responses=ERR)
async def force_pause(
    username: str, body: PauseIn, user: SupervisorUser, agents: AgentsDep
) -> dict[str, Any]:
    """强制示忙。"""
    member = await agents.force_pause(username, body.reason)
    return agent_view(username, member).to_public_dict()


@router.post("/agents/{username}/resume", responses=ERR)
async def force_resume(username: str, user: SupervisorUser, agents: AgentsDep) -> dict[str, Any]:
    """强制示闲。"""
    member = await agents.resume(username)
    return agent_view(username, member).to_public_dict()


@router.post("/agents/{username}/listen", responses=ERR)
async def listen(username: str, body: ListenIn, user: SupervisorUser, agents: AgentsDep) -> dict[str, Any]:
    """监听：班长话机振铃，接听后旁听该坐席的通话（ChanSpy，静音）。"""
    result = await agents.listen(username, body.interface)
    return {"ok": True, "channel": result.channel}
