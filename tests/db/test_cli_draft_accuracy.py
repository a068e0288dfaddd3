"""``minhu asr accuracy``: per-field draft accuracy from the decisions kept, on a scratch SQLite file."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from minhu.cli import app
from minhu.db.draft_models import DraftDecisionRow, OrderDraftRow
from minhu.db.engine import create_engine, create_session_factory
from workorders.clock import SHANGHAI

runner = CliRunner()


async def _store(url: str) -> None:
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session:
            at = datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)
            drafts = [
                OrderDraftRow(
                    transcript="暖气不热", reference_at=at, created_at=at, created_by="agent", suggestions={}
                )
                for _ in range(3)
            ]
            session.add_all(drafts)
            await session.flush()
            # unit: accepted, accepted, corrected; kind: accepted, corrected. The third draft's
            # decision is on 2026-11-03 00:30 Shanghai time (16:30 UTC the day before).
            late = datetime(2026, 11, 3, 0, 30, tzinfo=SHANGHAI)
            rows = [
                (drafts[0], "unit", True, at),
                (drafts[1], "unit", True, at),
                (drafts[2], "unit", False, late),
                (drafts[0], "kind", True, at),
                (drafts[1], "kind", False, at),
            ]
            session.add_all(
                DraftDecisionRow(
                    draft_id=d.id,
                    field=f,
                    suggested="x",
                    final="x" if ok else "y",
                    accepted=ok,
                    decided_by="agent",
                    decided_at=when,
                )
                for d, f, ok, when in rows
            )
            await session.commit()
    finally:
        await engine.dispose()


def test_given_stored_decisions_when_accuracy_is_asked_for_days_then_the_counts_are_exact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/drafts.db"
    monkeypatch.setenv("MINHU_DATABASE_URL", url)
    monkeypatch.setenv("MINHU_LOG_LEVEL", "WARNING")
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    asyncio.run(_store(url))

    one_day = runner.invoke(app, ["asr", "accuracy", "--from", "2026-11-02", "--to", "2026-11-02"])
    assert one_day.exit_code == 0, one_day.output
    lines = {
        line.split()[0]: line.split()[2:] for line in one_day.output.splitlines() if line.startswith("  ")
    }
    assert "2 份草稿" in one_day.output
    assert lines["kind"] == ["1/2", "0.5000"]
    assert lines["unit"] == ["2/2", "1.0000"]
    assert lines["all"] == ["3/4", "0.7500"]

    both = runner.invoke(app, ["asr", "accuracy", "--from", "2026-11-02", "--to", "2026-11-03"])
    lines = {line.split()[0]: line.split()[2:] for line in both.output.splitlines() if line.startswith("  ")}
    assert lines["unit"] == ["2/3", "0.6667"]
    assert lines["all"] == ["3/5", "0.6000"]

    backwards = runner.invoke(app, ["asr", "accuracy", "--from", "2026-11-03", "--to", "2026-11-02"])
    assert backwards.exit_code == 2
    assert "结束日期早于开始日期" in backwards.output
