"""Scriptable scenarios: citizens who dial 12345, agents and units who answer or not.

A ``Scenario`` (``pbx.simulator.scenario``) says who calls when (``InboundCall`` with a
``Citizen`` and their script), which agents are signed in (``MemberSpec``) and how every dialed
destination behaves (``Answers``, ``RingsOut``, ``Busy``, ``Congested``, ``Unreachable``:
``pbx.simulator.behaviour``, chosen by a channel pattern). The ``ScenarioEngine``
(``pbx.simulator.scenario_engine``) plays it on the simulated PBX: a small dialplan interpreter
walks each channel through its contexts (``pbx.simulator.dialplan``: Minhu's own, from
``deploy/asterisk``'s names, and the recording rig's), runs ``AGI()`` as a real FastAGI client,
runs ``Queue()`` against the live queue members, and answers the AMI actions that change calls
(Originate, Hangup, QueueAdd/Pause/Remove).

Every event is built from a recorded layout (``pbx.simulator.templates``) and emitted in the
order the recordings show (``b-inbound-queue-call``, ``d-originate-failures``,
``e-queue-members``, ``f-ami-side-of-agi``, set2's ``b2`` and ``d``).

This module is the one import for all of it.
"""

from __future__ import annotations

from pbx.simulator.behaviour import (
    ORIGINATE_REASON,
    Answers,
    Behaviour,
    Busy,
    Congested,
    RingsOut,
    Unreachable,
)
from pbx.simulator.call_record import CallRecord
from pbx.simulator.citizen import Citizen, CitizenScript, HangUp, Press
from pbx.simulator.dialplan import ANSWER_SETTLE, App, Dialplan, default_dialplan
from pbx.simulator.scenario import InboundCall, MemberSpec, Scenario
from pbx.simulator.scenario_engine import ScenarioEngine

__all__ = [
    "ANSWER_SETTLE",
    "ORIGINATE_REASON",
    "Answers",
    "App",
    "Behaviour",
    "Busy",
    "CallRecord",
    "Citizen",
    "CitizenScript",
    "Congested",
    "Dialplan",
    "HangUp",
    "InboundCall",
    "MemberSpec",
    "Press",
    "RingsOut",
    "Scenario",
    "ScenarioEngine",
    "Unreachable",
    "default_dialplan",
]
