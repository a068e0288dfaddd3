"""Request bodies of the desktop's telephony routes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginIn(_In):
    interface: Annotated[str, Field(min_length=3, max_length=120, examples=["PJSIP/1001"])]
    """The agent's phone (话机): ``PJSIP/<extension>``."""


class PauseIn(_In):
    reason: Annotated[str, Field(min_length=1, max_length=32, examples=["break"])]
    """``break`` 小休, ``meal`` 用餐, ``training`` 培训, ``meeting`` 会议, ``callback`` 外呼回访,
    ``wrapup`` 话后整理."""


class TransferIn(_In):
    to: Literal["queue", "agent"]
    extension: Annotated[str | None, Field(default=None, pattern=r"^\d{3,8}$")] = None

    @model_validator(mode="after")
    def _extension_for_agent(self) -> TransferIn:
        if self.to == "agent" and not self.extension:
            raise ValueError("转接给坐席时须填写分机号")
        return self


class ThreePartyIn(_In):
    unit_id: int | None = None
    """A unit from the directory (its phone is dialled) ..."""
    number: Annotated[str | None, Field(default=None, pattern=r"^\d{3,20}$")] = None
    """... or a number."""

    @model_validator(mode="after")
    def _one_target(self) -> ThreePartyIn:
        if (self.unit_id is None) == (self.number is None):
            raise ValueError("须且只能指定 unit_id 或 number 之一")
        return self


class ListenIn(_In):
    interface: Annotated[str, Field(min_length=3, max_length=120, examples=["PJSIP/1901"])]
    """The supervisor's phone, which rings and then hears the agent's call."""


class CallLinkIn(_In):
    order_number: Annotated[str, Field(pattern=r"^\d{8}-\d{6}$", examples=["20261122-000123"])]
    """The order registered during (or right after) the call."""
