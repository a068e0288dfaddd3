"""Signing in (OAuth2 password flow) and who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from ..deps import CurrentUser, DirectoryDep, SettingsDep
from ..errors import responses
from ..schemas import TokenOut, UserOut

router = APIRouter(prefix="/auth", tags=["auth 登录"])


@router.post("/token", response_model=TokenOut, responses=responses(401, 422))
async def issue_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], directory: DirectoryDep, settings: SettingsDep
) -> TokenOut:
    """登录：用户名和密码换取访问令牌 (OAuth2 password flow; send it as ``Authorization: Bearer``)."""
    issued = await directory.authenticate(form.username, form.password, settings)
    return TokenOut(access_token=issued.access_token, expires_in=issued.expires_in)


@router.get("/me", response_model=UserOut, responses=responses(401))
async def me(user: CurrentUser) -> UserOut:
    """当前登录用户 (the signed-in user)."""
    return UserOut.model_validate(user)
