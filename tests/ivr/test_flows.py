"""Flows are checked at boot: a problem is an error naming what is wrong, not a dropped call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ivr.boot import load_checked_flows
from ivr.flows import FlowError, load_flows, parse_flow, validate
from ivr.prompts import PromptCatalogue, PromptCatalogueError, load_catalogue
from ivr.settings import IvrSettings

CATALOGUE = load_catalogue()


def _flow(**nodes: Any) -> dict[str, Any]:
    return {
        "script": "ivr",
        "next_variable": "MINHU_IVR_NEXT",
        "start": "greeting",
        "agent": "agent",
        "nodes": {
            "greeting": {"type": "play", "prompts": ["minhu/welcome"], "next": "menu"},
            "menu": {"type": "menu", "prompts": ["minhu/main-menu"], "options": {"1": "agent"}},
            "agent": {"type": "queue", "topic": "agent", "prompts": ["minhu/transfer-agent"]},
            **nodes,
        },
    }


def _problems(data: dict[str, Any]) -> str:
    with pytest.raises(FlowError) as caught:
        validate(parse_flow(data, "test"), CATALOGUE)
    assert caught.value.error_id == "ivr-flow-invalid"
    return str(caught.value)


def test_the_shipped_flows_are_valid() -> None:
    flows = load_checked_flows(IvrSettings(_env_file=None))  # type: ignore[call-arg]
    assert set(flows) == {"ivr", "overflow"}
    assert flows["ivr"].next_variable == "MINHU_IVR_NEXT"
    assert flows["overflow"].next_variable == "MINHU_OVERFLOW_NEXT"


def test_the_catalogue_has_a_prompt_for_every_order_state() -> None:
    flows = load_flows(Path(IvrSettings(_env_file=None).flows_dir))  # type: ignore[call-arg]
    order = flows["ivr"].nodes["order_status"]
    assert all(prompt in CATALOGUE for prompt in order.prompts())


def test_given_a_missing_prompt_then_boot_fails_naming_the_prompt_and_the_node() -> None:
    data = _flow()
    data["nodes"]["greeting"]["prompts"] = ["minhu/welcome", "minhu/no-such-greeting"]
    message = _problems(data)
    assert "minhu/no-such-greeting" in message
    assert "greeting" in message


def test_given_an_unreachable_node_then_boot_fails_naming_it() -> None:
    message = _problems(_flow(orphan={"type": "hangup", "prompts": ["minhu/goodbye"]}))
    assert "“orphan”从起点“greeting”不可达" in message


def test_given_a_transition_to_a_missing_node_then_boot_fails_naming_both() -> None:
    data = _flow()
    data["nodes"]["menu"]["options"]["2"] = "order_lookup"
    message = _problems(data)
    assert "节点“menu”指向不存在的节点“order_lookup”" in message


def test_given_a_loop_with_no_way_out_then_boot_fails() -> None:
    data = _flow(
        loop_a={"type": "play", "prompts": ["minhu/goodbye"], "next": "loop_b"},
        loop_b={"type": "play", "prompts": ["minhu/goodbye"], "next": "loop_a"},
    )
    data["nodes"]["menu"]["options"]["2"] = "loop_a"
    message = _problems(data)
    assert "“loop_a”之后没有任何路径能结束通话" in message


def test_given_a_variable_the_dialplan_does_not_read_then_boot_fails() -> None:
    data = _flow()
    data["next_variable"] = "MINHU_IVR_RESULT"
    with pytest.raises(FlowError, match="MINHU_IVR_NEXT"):
        parse_flow(data, "test")


def test_given_bad_keys_unknown_types_and_settings_then_every_problem_is_listed() -> None:
    data = _flow(weird={"type": "teleport"})
    data["nodes"]["menu"]["options"]["12"] = "agent"
    data["nodes"]["menu"]["colour"] = "red"
    with pytest.raises(FlowError) as caught:
        parse_flow(data, "test")
    problems = caught.value.problems
    assert any("teleport" in p for p in problems)
    assert any("“12”" in p for p in problems)
    assert any("colour" in p for p in problems)


def test_given_a_prompt_directory_then_a_prompt_without_a_sound_file_fails_boot(tmp_path: Path) -> None:
    sounds = tmp_path / "zh"
    for name in CATALOGUE.texts:
        if name != "minhu/emergency-110":
            (sounds / name).parent.mkdir(parents=True, exist_ok=True)
            (sounds / f"{name}.wav").write_bytes(b"RIFF")
    settings = IvrSettings(_env_file=None, prompt_dir=sounds)  # type: ignore[call-arg]
    with pytest.raises(FlowError) as caught:
        load_checked_flows(settings)
    assert "minhu/emergency-110" in str(caught.value)
    assert str(sounds) in str(caught.value)
    (sounds / "minhu" / "emergency-110.sln").write_bytes(b"")
    assert load_checked_flows(settings)


def test_given_a_missing_prompt_directory_or_catalogue_then_boot_fails(tmp_path: Path) -> None:
    with pytest.raises(PromptCatalogueError):
        CATALOGUE.with_directory(tmp_path / "nowhere")
    with pytest.raises(PromptCatalogueError):
        load_catalogue(tmp_path / "catalogue.yaml")
    assert "minhu/welcome" not in PromptCatalogue({})
