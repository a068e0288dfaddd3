"""Settings of a Minhu process (``MINHU_*`` environment variables, or a ``.env`` file).

Built once in each entry point (:func:`minhu.cli` commands, the test fixtures) and passed down;
nothing in Minhu reads the environment at import time.
"""

from __future__ import annotations

import secrets
from enum import StrEnum
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    DEVELOPMENT = "development"
    DEMO = "demo"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Everything a deployment may set; defaults run the demo on loopback with SQLite."""

    model_config = SettingsConfigDict(
        env_prefix="MINHU_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    environment: Environment = Environment.DEVELOPMENT
    database_url: str = "sqlite+aiosqlite:///./var/minhu.db"
    database_echo: bool = False
    # Connections each process keeps open to PostgreSQL (per API worker). A request holds one
    # while it runs; past the pool size, connections are opened and closed per request (a new
    # server process each on PostgreSQL), so size it to the requests a worker serves at once.
    database_pool_size: int = Field(default=20, ge=1, le=500)
    database_max_overflow: int = Field(default=10, ge=0, le=500)
    redis_url: str = "redis://127.0.0.1:6379/0"
    timezone: str = "Asia/Shanghai"

    policy_profile: str = "pingdingshan-2022"
    policy_overrides: dict[str, Any] = Field(default_factory=dict)

    jwt_secret: SecretStr | None = None
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    access_token_minutes: int = Field(default=480, ge=1, le=7 * 24 * 60)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["console", "json"] = "console"

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)

    # The PBX (Asterisk AMI). Unset host or secret: the agent desktop runs without telephony.
    ami_host: str | None = None
    ami_port: int = Field(default=5038, ge=1, le=65535)
    ami_username: str = "minhu"
    ami_secret: SecretStr | None = None
    pbx_redis_prefix: str = "minhu:pbx"
    agent_wrapup_seconds: float = Field(default=30.0, ge=0, le=3600)
    queue_service_level_seconds: float = Field(default=20.0, gt=0, le=3600)
    three_party_ring_seconds: float = Field(default=30.0, gt=0, le=300)
    # The knowledge base lives in the database; each process keeps a search index of it and hears
    # of changes made by other processes on this Redis pub/sub channel ("" : this process only).
    kb_changes_channel: str = "minhu:kb:changed"
    # Live transcription (实时转写): when an agent answers a queue call, the leader process has
    # Asterisk stream the citizen's voice to the AudioSocket server (MINHU_AUDIOSOCKET_ADDR in
    # Asterisk's environment); partial results and knowledge-base suggestions go to the desktop.
    live_transcription: bool = False
    # Drafts (工单草稿): how many of the latest assigned orders the unit suggestion learns from.
    draft_history_orders: int = Field(default=2000, ge=0, le=100_000)

    # The revisit dialer (``minhu dialer run``) and the IVR's survey share the Redis prefix. The
    # rules' numbers (calling hours, gaps, daily caps) are the policy profile's, not these.
    dialer_redis_prefix: str = "minhu:dialer"
    dialer_max_channels: int = Field(default=30, ge=1, le=1000)
    dialer_calls_per_minute: int = Field(default=120, ge=1, le=100_000)
    dialer_inbound_waiting_threshold: int = Field(default=3, ge=0)
    dialer_replied_poll_seconds: float = Field(default=30.0, gt=0, le=3600)
    dialer_drain_seconds: float = Field(default=60.0, ge=0, le=3600)

    # True when the secret was generated for this run (tokens die with the process).
    jwt_secret_generated: bool = Field(default=False, exclude=True)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _secret_policy(self) -> Settings:
        if self.jwt_secret is None or not self.jwt_secret.get_secret_value():
            if self.environment is Environment.PRODUCTION:
                raise ValueError("MINHU_JWT_SECRET is required when MINHU_ENVIRONMENT=production")
            self.jwt_secret = SecretStr(secrets.token_urlsafe(48))
            self.jwt_secret_generated = True
        elif self.environment is Environment.PRODUCTION and len(self.jwt_secret.get_secret_value()) < 32:
            raise ValueError("MINHU_JWT_SECRET must be at least 32 characters in production")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def ami_enabled(self) -> bool:
        secret = self.ami_secret.get_secret_value() if self.ami_secret is not None else ""
        return bool(self.ami_host) and bool(secret)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def jwt_key(self) -> str:
        assert self.jwt_secret is not None  # set by the validator
        return self.jwt_secret.get_secret_value()
