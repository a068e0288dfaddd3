"""The operator command line, end to end on a scratch SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from minhu.cli import app

runner = CliRunner()


def test_help_is_bilingual() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "运维命令" in result.output and "operator commands" in result.output
    for command in ("serve", "db", "seed-demo", "calendar"):
        assert command in result.output
    calendar_help = runner.invoke(app, ["calendar", "load", "--help"])
    assert "官方节假日" in calendar_help.output and "official holidays" in calendar_help.output


def test_upgrade_seed_and_calendar_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINHU_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("MINHU_LOG_LEVEL", "WARNING")
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0

    seeded = runner.invoke(app, ["seed-demo"])
    assert seeded.exit_code == 0, seeded.output
    assert "demo city created" in seeded.output
    for role in ("admin", "intake_agent", "supervisor", "unit_handler"):
        assert role in seeded.output
    counts = {
        line.split()[0]: int(line.split()[1])
        for line in seeded.output.splitlines()
        if line.startswith("  ") and len(line.split()) == 2 and line.split()[1].isdigit()
    }
    assert len(counts) == 12 and all(n > 0 for n in counts.values()), counts
    again = runner.invoke(app, ["seed-demo"])
    assert again.exit_code == 0 and "nothing to do" in again.output

    good = tmp_path / "2031.json"
    good.write_text(json.dumps({"year": 2031, "holidays": ["2031-10-01"], "workdays": ["2031-09-28"]}))
    loaded = runner.invoke(app, ["calendar", "load", str(good)])
    assert loaded.exit_code == 0, loaded.output
    assert "2031" in loaded.output
    status = runner.invoke(app, ["calendar", "status"])
    assert "2031" in status.output

    bad = tmp_path / "bad.csv"
    bad.write_text("2031-10-01,maybe\n")
    refused = runner.invoke(app, ["calendar", "load", str(bad)])
    assert refused.exit_code == 1
    assert "not loaded" in refused.output
