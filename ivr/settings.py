"""The IVR process's settings (``MINHU_IVR_*``), read once by the entry point."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ivr.hours import ServiceHours
from ivr.prompts import DEFAULT_CATALOGUE
from pbx import dialplan_names as names

DEFAULT_FLOWS_DIR = Path(__file__).parent / "flows"


class IvrSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MINHU_IVR_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    host: str = "127.0.0.1"
    port: int = Field(default=names.AGI_DEFAULT_PORT, ge=0, le=65535)
    flows_dir: Path = DEFAULT_FLOWS_DIR
    prompt_catalogue: Path = DEFAULT_CATALOGUE
    prompt_dir: Path | None = None
    """The Asterisk host's sounds directory for the line's language (``.../sounds/zh``), when
    mounted here: every prompt a flow uses must then exist as a file."""
    service_hours: str = "24h"
    """``24h`` (default: around the clock, a holiday greeting on official holidays) or local
    ranges such as ``08:00-12:00,13:30-18:00``."""
    service_days: Literal["every_day", "working_days"] = "every_day"
    callback_stream: str = "minhu:callbacks"
    command_timeout_s: float = Field(default=60.0, gt=0)
    drain_s: float = Field(default=10.0, ge=0)

    @field_validator("service_hours")
    @classmethod
    def _valid_hours(cls, value: str) -> str:
        ServiceHours.parse(value)
        return value

    def hours(self) -> ServiceHours:
        return ServiceHours.parse(self.service_hours, working_days_only=self.service_days == "working_days")
