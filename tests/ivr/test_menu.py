"""The main menu over FastAGI, driven by the simulator's Asterisk side: what real callers do."""

from __future__ import annotations

import asyncio

from pbx.simulator.citizen import CitizenScript, HangUp, Press

from .harness import CALLER, running_ivr

# Call time of the main menu with 2 s prompts: welcome 0-2, 110 notice 2-4, menu 4-6, keys 6-11.
DURING_WAIT = 7.0


async def test_given_1_then_the_110_notice_was_played_and_the_call_goes_to_the_queue() -> None:
    async with running_ivr() as ivr:
        call = await ivr.call(CitizenScript((Press("1", at=DURING_WAIT),)))
    assert call.played[:3] == ["minhu/welcome", "minhu/emergency-110", "minhu/main-menu"]
    assert call.played[-1] == "minhu/transfer-agent"
    assert call.variables == {
        "MINHU_IVR_NEXT": "queue",
        "MINHU_QUEUE_PRIO": "0",
        "MINHU_IVR_TOPIC": "consultation",
    }
    assert call.session.result.status == "SUCCESS"


async def test_given_3_suggestions_and_0_agent_then_both_reach_the_queue_with_their_topic() -> None:
    async with running_ivr() as ivr:
        suggestion = await ivr.call(CitizenScript((Press("3", at=DURING_WAIT),)))
        agent = await ivr.call(CitizenScript((Press("0", at=DURING_WAIT),)))
    assert suggestion.variables["MINHU_IVR_TOPIC"] == "suggestion"
    assert suggestion.played[-1] == "minhu/transfer-suggestion"
    assert agent.variables["MINHU_IVR_TOPIC"] == "agent"
    assert {suggestion.variables["MINHU_IVR_NEXT"], agent.variables["MINHU_IVR_NEXT"]} == {"queue"}


async def test_given_no_input_then_the_menu_is_retried_three_times_and_the_caller_goes_to_an_agent() -> None:
    async with running_ivr() as ivr:
        call = await ivr.call(CitizenScript())
        no_input = ivr.events("ivr.no_input")
        gave_up = ivr.events("ivr.menu_gave_up")
    assert call.played.count("minhu/main-menu") == 3
    assert call.played.count("minhu/no-input") == 3
    assert [c for c in call.commands if c.startswith("WAIT FOR DIGIT")] == ["WAIT FOR DIGIT 5000"] * 3
    assert call.variables["MINHU_IVR_NEXT"] == "queue"
    assert call.variables["MINHU_IVR_TOPIC"] == "agent"
    assert [e["attempt"] for e in no_input] == [1, 2, 3]
    assert gave_up[0]["to"] == "agent"


async def test_given_a_wrong_key_then_input_error_is_played_and_the_menu_replayed() -> None:
    # 7 at 7.0 → "输入有误" 7-9 → menu 9-11 → waiting from 11: 1 at 12
    async with running_ivr() as ivr:
        call = await ivr.call(CitizenScript((Press("7", at=DURING_WAIT), Press("1", at=12.0))))
        wrong = ivr.events("ivr.wrong_key")
    assert call.played[2:6] == [
        "minhu/main-menu",
        "minhu/input-error",
        "minhu/main-menu",
        "minhu/transfer-agent",
    ]
    assert call.variables["MINHU_IVR_TOPIC"] == "consultation"
    assert wrong[0]["key"] == "7"


async def test_given_wrong_keys_every_time_then_the_caller_still_reaches_an_agent() -> None:
    script = CitizenScript((Press("9", at=DURING_WAIT), Press("9", at=12.0), Press("9", at=17.0)))
    async with running_ivr() as ivr:
        call = await ivr.call(script)
    assert call.played.count("minhu/input-error") == 3
    assert call.variables["MINHU_IVR_NEXT"] == "queue"
    assert call.variables["MINHU_IVR_TOPIC"] == "agent"


async def test_given_a_caller_keying_during_the_greeting_then_the_key_chooses_without_waiting() -> None:
    async with running_ivr() as ivr:
        call = await ivr.call(CitizenScript((Press("1", at=0.5),)))
        typeahead = ivr.events("ivr.typeahead")
    assert call.commands[0] == 'STREAM FILE minhu/welcome "0123456789*#"'
    assert call.session.result.commands[0][1].startswith("200 result=49 ")  # '1' stopped the greeting
    assert "minhu/main-menu" not in call.played
    assert call.variables["MINHU_IVR_TOPIC"] == "consultation"
    assert typeahead[0]["key"] == "1"


async def test_given_a_caller_keying_during_the_input_error_prompt_then_the_key_counts() -> None:
    # wrong 5 at 7.0, then 3 at 7.5 while "输入有误" plays
    async with running_ivr() as ivr:
        call = await ivr.call(CitizenScript((Press("53", at=DURING_WAIT, gap=0.5),)))
    assert call.played.count("minhu/main-menu") == 1
    assert call.variables["MINHU_IVR_TOPIC"] == "suggestion"


async def test_given_a_hang_up_mid_menu_then_the_server_stops_and_closes_the_socket() -> None:
    async with running_ivr() as ivr:
        started = asyncio.get_running_loop().time()
        call = await ivr.call(CitizenScript((HangUp(at=5.0),)), dead_socket_limit=30.0)
        elapsed = asyncio.get_running_loop().time() - started
        hung_up = ivr.events("ivr.caller_hung_up")
        ended = ivr.events("ivr.call_ended")
        for _ in range(100):
            if ivr.server.active_calls == 0:
                break
            await asyncio.sleep(0.01)
        assert ivr.server.active_calls == 0
    assert call.session.result.status == "HANGUP"
    assert call.session.result.citizen_hung_up
    # the server sent nothing after Asterisk's HANGUP and closed at once (not after the 30 s limit)
    assert call.commands[-1] == 'STREAM FILE minhu/main-menu "0123456789*#"'
    assert elapsed < 10.0
    assert call.variables == {}
    assert hung_up[0]["node"] == "main_menu"
    assert ended[0]["result"] == "caller_hung_up"


async def test_given_any_call_then_every_log_line_masks_the_caller_number() -> None:
    async with running_ivr() as ivr:
        await ivr.call(CitizenScript((Press("1", at=DURING_WAIT),)))
        logs = list(ivr.logs)
    assert logs
    assert all(CALLER not in repr(entry) for entry in logs)
    started = next(e for e in logs if e["event"] == "ivr.call_started")
    assert started["caller"] == "138****8000"
    assert started["did"] == "12345"
