"""Units, users and signing in."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from minhu.db.mapping import unit_key
from minhu.db.models import Unit, User
from minhu.db.repositories.audit import AuditRepository
from minhu.db.repositories.directory import UnitRepository, UserRepository
from minhu.security import (
    DUMMY_HASH,
    InvalidToken,
    TokenClaims,
    hash_password,
    issue_token,
    read_token,
    verify_password,
)
from minhu.settings import Settings
from workorders.clock import Clock
from workorders.enums import AssessmentGroup, Role
from workorders.lifecycle import valid_phone
from workorders.model import Actor

from .errors import AuthenticationFailed, BadInput, Conflict, Forbidden, NotFound, UnknownReference

USER_ROLES = (Role.INTAKE_AGENT, Role.SUPERVISOR, Role.UNIT_HANDLER, Role.ADMIN)


def actor_of(user: User) -> Actor:
    """The domain's view of a signed-in user."""
    return Actor(
        user_id=user.username,
        role=Role(user.role),
        unit_id=None if user.unit_id is None else unit_key(user.unit_id),
        name=user.display_name,
    )


_BAD_CREDENTIAL_MESSAGE = "登录凭证无效或已过期，请重新登录"
_NO_SUCH_USER = "登录凭证对应的账号不存在或已停用"


class SignInCache:
    """Who is signed in, without a database query per request; one per app (``app.state``).

    A token's signature and claims are verified once: the same bytes always decode to the same
    claims, so later requests only compare its expiry with the clock. The user behind it (role,
    unit, name and the active flag) is read from the database at most every ``ttl_seconds``: a
    deactivated account, or a changed role or unit, takes effect within that time.
    """

    def __init__(self, ttl_seconds: float = 5.0, max_entries: int = 10_000) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._tokens: dict[str, TokenClaims] = {}
        # user id -> (read at, the user's actor or None when unknown or deactivated)
        self._users: dict[int, tuple[float, Actor | None]] = {}

    def invalidate(self, user_id: int | None = None) -> None:
        """Forget one user (or everyone): the next request reads them from the database."""
        if user_id is None:
            self._users.clear()
        else:
            self._users.pop(user_id, None)

    def claims(self, token: str, settings: Settings, clock: Clock) -> TokenClaims:
        now = clock.now()
        claims = self._tokens.get(token)
        if claims is None:
            try:
                claims = read_token(
                    token, now=now, secret=settings.jwt_key(), algorithm=settings.jwt_algorithm
                )
            except InvalidToken as exc:
                raise AuthenticationFailed("invalid-token", _BAD_CREDENTIAL_MESSAGE) from exc
            if len(self._tokens) >= self._max:
                self._tokens.clear()
            self._tokens[token] = claims
        elif claims.expires_at <= now:
            del self._tokens[token]
            raise AuthenticationFailed("invalid-token", _BAD_CREDENTIAL_MESSAGE)
        return claims

    async def actor(self, token: str, *, session: AsyncSession, settings: Settings, clock: Clock) -> Actor:
        """The signed-in user's actor, or :class:`AuthenticationFailed` (401)."""
        user_id = self.claims(token, settings, clock).user_id
        known = self._users.get(user_id)
        at = time.monotonic()
        if known is None or at - known[0] > self._ttl:
            known = (at, await _read_actor(session, user_id))
            if len(self._users) >= self._max:
                self._users.clear()
            self._users[user_id] = known
        actor = known[1]
        if actor is None:
            raise AuthenticationFailed("invalid-token", _NO_SUCH_USER)
        return actor


async def _read_actor(session: AsyncSession, user_id: int) -> Actor | None:
    stmt = select(User.username, User.role, User.unit_id, User.display_name, User.active).where(
        User.id == user_id
    )
    row = (await session.execute(stmt)).first()
    if row is None or not row.active:
        return None
    return Actor(
        user_id=row.username,
        role=Role(row.role),
        unit_id=None if row.unit_id is None else unit_key(row.unit_id),
        name=row.display_name,
    )


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_in: int
    user: User


class DirectoryService:
    def __init__(self, session: AsyncSession, *, clock: Clock, via: str = "api") -> None:
        self._session = session
        self._clock = clock
        self._via = via
        self._units = UnitRepository(session)
        self._users = UserRepository(session)
        self._audit = AuditRepository(session)

    @staticmethod
    def _require_admin(actor: Actor) -> None:
        if actor.role not in (Role.ADMIN, Role.SYSTEM):
            raise Forbidden("role-not-permitted", "只有系统管理员可以执行此操作", role=str(actor.role))

    async def _audited(self, actor: Actor, action: str, details: dict[str, object]) -> None:
        await self._audit.append_admin(
            action=action,
            at=self._clock.now(),
            actor_id=actor.user_id,
            actor_name=actor.name,
            actor_role=actor.role.value,
            via=self._via,
            details=details,
        )

    async def _commit(self) -> None:
        try:
            await self._session.commit()
        except IntegrityError as exc:
            await self._session.rollback()
            raise Conflict("duplicate", "已存在相同编码或用户名的记录") from exc

    # -- units -------------------------------------------------------------------------------

    async def list_units(self, *, group: AssessmentGroup | None = None) -> list[Unit]:
        return await self._units.list(group=None if group is None else group.value)

    async def get_unit(self, unit_id: int) -> Unit:
        unit = await self._units.get(unit_id)
        if unit is None:
            raise NotFound("unit-not-found", f"网络单位{unit_id}不存在", unit=unit_id)
        return unit

    async def create_unit(
        self,
        actor: Actor,
        *,
        code: str,
        name: str,
        group: AssessmentGroup,
        parent_id: int | None = None,
        phone: str = "",
    ) -> Unit:
        self._require_admin(actor)
        try:
            if parent_id is not None and await self._units.get(parent_id) is None:
                raise UnknownReference("unknown-unit", f"上级单位{parent_id}不存在", unit=parent_id)
            if await self._units.by_code(code) is not None:
                raise Conflict("duplicate-unit-code", f"单位编码“{code}”已存在", unit_code=code)
            if phone and not valid_phone(phone):
                raise BadInput("invalid-phone", f"“单位电话”不是有效的电话号码：{phone}")
            unit = await self._units.add(
                Unit(
                    code=code,
                    name=name,
                    assessment_group=group.value,
                    parent_id=parent_id,
                    phone=phone,
                    active=True,
                    created_at=self._clock.now(),
                )
            )
            await self._audited(actor, "unit_create", {"unit": unit.id, "code": code, "group": group.value})
        except BaseException:
            await self._session.rollback()
            raise
        await self._commit()
        return unit

    # -- users -------------------------------------------------------------------------------

    async def list_users(self, actor: Actor, *, role: Role | None = None) -> list[User]:
        self._require_admin(actor)
        return await self._users.list(role=None if role is None else role.value)

    async def get_user(self, user_id: int) -> User | None:
        return await self._users.get(user_id)

    async def create_user(
        self,
        actor: Actor,
        *,
        username: str,
        password: str,
        role: Role,
        display_name: str,
        unit_id: int | None = None,
        phone: str = "",
    ) -> User:
        self._require_admin(actor)
        try:
            if role not in USER_ROLES:
                raise BadInput("bad-role", f"角色“{role}”不能用于登录账号")
            if role is Role.UNIT_HANDLER and unit_id is None:
                raise BadInput("unit-required", "网络单位承办人须指定所属单位")
            if role is not Role.UNIT_HANDLER and unit_id is not None:
                raise BadInput("unit-not-allowed", "只有网络单位承办人关联所属单位")
            if unit_id is not None and await self._units.get(unit_id) is None:
                raise UnknownReference("unknown-unit", f"网络单位{unit_id}不存在", unit=unit_id)
            if phone and not valid_phone(phone):
                raise BadInput("invalid-phone", f"“电话”不是有效的电话号码：{phone}")
            if await self._users.by_username(username) is not None:
                raise Conflict("duplicate-username", f"用户名“{username}”已存在", username=username)
            user = await self._users.add(
                User(
                    username=username,
                    password_hash=hash_password(password),
                    role=role.value,
                    unit_id=unit_id,
                    display_name=display_name,
                    phone=phone,
                    active=True,
                    created_at=self._clock.now(),
                )
            )
            await self._audited(actor, "user_create", {"user": username, "role": role.value, "unit": unit_id})
        except BaseException:
            await self._session.rollback()
            raise
        await self._commit()
        return user

    # -- signing in --------------------------------------------------------------------------

    async def authenticate(self, username: str, password: str, settings: Settings) -> IssuedToken:
        user = await self._users.by_username(username)
        if user is None:
            verify_password(password, DUMMY_HASH)
            raise AuthenticationFailed("bad-credentials", "用户名或密码错误")
        if not verify_password(password, user.password_hash) or not user.active:
            raise AuthenticationFailed("bad-credentials", "用户名或密码错误")
        lifetime = timedelta(minutes=settings.access_token_minutes)
        token, _ = issue_token(
            user_id=user.id,
            role=user.role,
            now=self._clock.now(),
            lifetime=lifetime,
            secret=settings.jwt_key(),
            algorithm=settings.jwt_algorithm,
        )
        return IssuedToken(access_token=token, expires_in=int(lifetime.total_seconds()), user=user)

    async def user_for_token(self, token: str, settings: Settings) -> User:
        try:
            claims = read_token(
                token, now=self._clock.now(), secret=settings.jwt_key(), algorithm=settings.jwt_algorithm
            )
        except InvalidToken as exc:
            raise AuthenticationFailed("invalid-token", _BAD_CREDENTIAL_MESSAGE) from exc
        user = await self._users.get(claims.user_id)
        if user is None or not user.active:
            raise AuthenticationFailed("invalid-token", _NO_SUCH_USER)
        return user
