"""Dependencies of the desktop's routes: the PBX runtime (or none), the agent service, roles."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from minhu.db.models import User
from minhu.services.errors import Forbidden
from workorders.enums import Role

from ..deps import CurrentUser
from .runtime import PbxRuntime
from .service import AgentService

AGENT_ROLES = frozenset({Role.INTAKE_AGENT.value, Role.SUPERVISOR.value})
SUPERVISOR_ROLES = frozenset({Role.SUPERVISOR.value, Role.ADMIN.value})

_NO_PBX = AgentService(None)


async def pbx_runtime(request: Request) -> PbxRuntime | None:
    runtime: PbxRuntime | None = getattr(request.app.state, "pbx", None)
    return runtime


RuntimeDep = Annotated[PbxRuntime | None, Depends(pbx_runtime)]


async def agent_service(runtime: RuntimeDep) -> AgentService:
    return runtime.agents if runtime is not None else _NO_PBX


AgentsDep = Annotated[AgentService, Depends(agent_service)]


async def current_agent(user: CurrentUser) -> User:
    if user.role not in AGENT_ROLES:
        raise Forbidden("not-an-agent", "只有话务员或班长可以使用坐席功能")
    return user


async def current_supervisor(user: CurrentUser) -> User:
    if user.role not in SUPERVISOR_ROLES:
        raise Forbidden("not-a-supervisor", "只有班长或管理员可以使用班长席")
    return user


AgentUser = Annotated[User, Depends(current_agent)]
SupervisorUser = Annotated[User, Depends(current_supervisor)]
