"""Units (网络单位) and users (账号)."""

from __future__ import annotations

from fastapi import APIRouter, status

from workorders.enums import AssessmentGroup, Role

from ..deps import ActorDep, DirectoryDep
from ..errors import responses
from ..schemas import UnitIn, UnitOut, UserIn, UserOut

units = APIRouter(prefix="/units", tags=["units 网络单位"])
users = APIRouter(prefix="/users", tags=["users 账号"])


@units.get("", response_model=list[UnitOut], responses=responses(401, 422))
async def list_units(
    _actor: ActorDep, directory: DirectoryDep, assessment_group: AssessmentGroup | None = None
) -> list[UnitOut]:
    """网络单位列表，可按考核分组筛选 (units, optionally of one assessment group)."""
    return [UnitOut.model_validate(u) for u in await directory.list_units(group=assessment_group)]


@units.get("/{unit_id}", response_model=UnitOut, responses=responses(401, 404, 422))
async def get_unit(unit_id: int, _actor: ActorDep, directory: DirectoryDep) -> UnitOut:
    """单个网络单位 (one unit)."""
    return UnitOut.model_validate(await directory.get_unit(unit_id))


@units.post(
    "", response_model=UnitOut, status_code=status.HTTP_201_CREATED, responses=responses(401, 403, 409, 422)
)
async def create_unit(body: UnitIn, actor: ActorDep, directory: DirectoryDep) -> UnitOut:
    """新增网络单位（管理员） (admin only)."""
    unit = await directory.create_unit(
        actor,
        code=body.code,
        name=body.name,
        group=body.assessment_group,
        parent_id=body.parent_id,
        phone=body.phone or "",
    )
    return UnitOut.model_validate(unit)


@users.get("", response_model=list[UserOut], responses=responses(401, 403, 422))
async def list_users(actor: ActorDep, directory: DirectoryDep, role: Role | None = None) -> list[UserOut]:
    """账号列表（管理员） (admin only)."""
    return [UserOut.model_validate(u) for u in await directory.list_users(actor, role=role)]


@users.post(
    "", response_model=UserOut, status_code=status.HTTP_201_CREATED, responses=responses(401, 403, 409, 422)
)
async def create_user(body: UserIn, actor: ActorDep, directory: DirectoryDep) -> UserOut:
    """新增账号（管理员）；承办人须指定所属单位 (admin only; unit handlers need a unit)."""
    user = await directory.create_user(
        actor,
        username=body.username,
        password=body.password,
        role=body.role,
        display_name=body.display_name,
        unit_id=body.unit_id,
        phone=body.phone or "",
    )
    return UserOut.model_validate(user)
