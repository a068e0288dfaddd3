"""Password hashing (Argon2 through pwdlib) and access tokens (JWT, signed with the settings' secret)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from pwdlib import PasswordHash

_hasher = PasswordHash.recommended()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return _hasher.verify(password, password_hash)
    except Exception:  # noqa: BLE001  (a malformed stored hash is a failed check, not a crash)
        return False


# Verified against when the username is unknown, so that both cases take the same time.
DUMMY_HASH = _hasher.hash("minhu-timing-equaliser")


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: int
    role: str
    expires_at: datetime


class InvalidToken(Exception):
    pass


def issue_token(
    *, user_id: int, role: str, now: datetime, lifetime: timedelta, secret: str, algorithm: str
) -> tuple[str, datetime]:
    expires = now + lifetime
    payload = {
        "sub": str(user_id),
        "role": role,
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
    }
    return jwt.encode(payload, secret, algorithm=algorithm), expires


def read_token(token: str, *, now: datetime, secret: str, algorithm: str) -> TokenClaims:
    """The token's claims, checked for signature and expiry against the injected clock's ``now``."""
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[algorithm],
            options={
                "require": ["sub", "exp"],
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
        claims = TokenClaims(
            user_id=int(payload["sub"]),
            role=str(payload.get("role", "")),
            expires_at=datetime.fromtimestamp(int(payload["exp"]), tz=UTC),
        )
    except (jwt.PyJWTError, ValueError, KeyError, TypeError) as exc:
        raise InvalidToken(str(exc)) from exc
    if claims.expires_at <= now:
        raise InvalidToken("token expired")
    return claims
