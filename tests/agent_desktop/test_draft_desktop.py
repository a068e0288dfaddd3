"""The desktop's 生成草稿: pasted call text becomes a draft that fills the order form (suggested
fields marked); saving the order keeps the agent's decision on each field, which the
supervisor's accuracy figures then count."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from minhu.settings import Settings
from workorders.clock import FixedClock

from ..api.city import PASSWORD
from .browser_rig import browser_page, require_browser, sign_in
from .desk import desk

pytestmark = pytest.mark.db

CALL = (
    "喂，你好，我要投诉一下，就是我们新华区光明路锦华小区门口，那个烧烤摊天天占道经营，"
    "把路都堵完了，城管也不管。我姓刘，电话幺三九零三七五八八六六。你们明天能来看看吗？"
)


async def test_given_pasted_call_text_when_agent_clicks_draft_then_form_fills_and_saving_keeps_decisions(
    settings: Settings, clock: FixedClock, db_session: AsyncSession, tmp_path: Path
) -> None:
    require_browser()
    async with desk(settings, clock, db_session) as d:
        async with browser_page(d.base, tmp_path) as page:
            await sign_in(page, "agent", PASSWORD)
            await page.fill("#draft-text", CALL)
            await page.click("#draft-make")
            await page.wait_for_selector("#order-unit.suggested")
            assert await page.input_value("#order-unit") == str(d.city.units["xinhua"])
            assert await page.input_value("#order-kind") == "complaint"
            assert await page.input_value("#order-phone") == "13903758866"
            assert await page.input_value("#order-address") == "新华区光明路锦华小区门口"
            assert "占道经营" in await page.input_value("#order-content")
            assert "置信度" in (await page.get_attribute("#order-address", "title") or "")
            assert "已生成草稿" in await page.inner_text("#draft-info")

            # the agent corrects the address, keeps the rest, and saves
            await page.fill("#order-address", "新华区光明路锦华小区东门")
            await page.click("#order-save")
            await page.wait_for_selector("#order-number")
            note = await page.inner_text("#order-number")
            assert "已保存工单" in note and "修改 1 项" in note, note
            assert await page.query_selector(".suggested") is None

        r = await d.city.get(
            "supervisor", "/drafts/accuracy", params={"date_from": "2026-09-30", "date_to": "2026-09-30"}
        )
        assert r.status_code == 200, r.text
        fields = {f["field"]: (f["accepted"], f["decided"]) for f in r.json()["fields"]}
        assert fields["address"] == (0, 1)
        assert fields["unit"] == (1, 1) and fields["kind"] == (1, 1) and fields["phones"] == (1, 1)
