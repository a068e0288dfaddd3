"""Minhu's dialplan as the simulator walks it: one ``App`` per priority, contexts by name.

``default_dialplan`` is the call flow of ``deploy/asterisk/extensions.conf`` (simplified to the
applications that show on AMI) plus the contexts of the recording rig
(``../shared/ami-traces/config-used/extensions.conf``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pbx import dialplan_names as names

ANSWER_SETTLE = 0.5
"""Seconds between Answer() and the next application (recorded for Local channels)."""


@dataclass(frozen=True, slots=True)
class App:
    """One dialplan priority: ``App("Queue", "citizens,cC,,,300")``; ``label`` as in ``n(done)``."""

    name: str
    data: str = ""
    label: str | None = None


Dialplan = Mapping[str, tuple[App, ...]]


def default_dialplan(agi_server: str | None) -> dict[str, tuple[App, ...]]:
    """Minhu's call flow (the contexts of ``deploy/asterisk/extensions.conf`` that a call walks,
    simplified to the applications that show on AMI) plus the recording rig's contexts."""
    agi = f"agi://{agi_server}" if agi_server else ""
    ivr = (
        App("AGI", f"{agi}/{names.AGI_IVR_SCRIPT}?did=${{MINHU_DID}}")
        if agi
        else App("Log", "ERROR,MINHU_AGI_HOST/MINHU_AGI_PORT not set")
    )
    queue = f"{names.INBOUND_QUEUE},cC,,,${{MINHU_QUEUE_MAX_WAIT}}"
    plan: dict[str, tuple[App, ...]] = {
        names.CARRIER_INBOUND_CONTEXT: (App("Goto", f"{names.CITIZEN_ENTRY_CONTEXT},${{EXTEN}},1"),),
        names.CITIZEN_ENTRY_CONTEXT: (
            App("NoOp", "citizen ${CALLERID(num)} called ${EXTEN}"),
            App("Set", "MINHU_DID=${EXTEN}"),
            App("Set", "CHANNEL(language)=zh"),
            App("Answer"),
            ivr,
            App("GotoIf", '$["${AGISTATUS}" = "HANGUP"]?done'),
            App("GotoIf", '$["${MINHU_IVR_NEXT}" = "hangup"]?done'),
            App("Goto", f"{names.INBOUND_QUEUE_CONTEXT},s,1"),
            App("Hangup", label="done"),
        ),
        names.INBOUND_QUEUE_CONTEXT: (
            App("Set", "QUEUE_PRIO=${MINHU_QUEUE_PRIO}"),
            App("Queue", queue),
            App("GotoIf", f'$["${{MEMBERINTERFACE}}" != ""]?{names.SATISFACTION_CONTEXT},s,1'),
            App("Goto", f"{names.OVERFLOW_CONTEXT},s,1"),
        ),
        names.OVERFLOW_CONTEXT: (
            App("NoOp", "queue overflow ${QUEUESTATUS} for ${CALLERID(num)}"),
            *(
                (App("AGI", f"{agi}/{names.AGI_OVERFLOW_SCRIPT}?reason=${{QUEUESTATUS}}"),)
                if agi
                else (App("Playback", "minhu/all-agents-busy"),)
            ),
            App("Hangup"),
        ),
        names.SATISFACTION_CONTEXT: (
            *((App("AGI", f"{agi}/{names.AGI_SATISFACTION_SCRIPT}"),) if agi else ()),
            App("Hangup"),
        ),
        names.SURVEY_CONTEXT: (
            App("NoOp", "revisit ${MINHU_REVISIT_ID} on ${CHANNEL}"),
            App("Set", "CHANNEL(language)=zh"),
            *((App("AGI", f"{agi}/{names.AGI_SURVEY_SCRIPT}?revisit=${{MINHU_REVISIT_ID}}"),) if agi else ()),
            App("Hangup"),
        ),
        names.THREE_PARTY_CONTEXT: (
            App(
                "NoOp", f"three-party room ${{EXTEN}}: ${{CHANNEL}} as ${{{names.THREE_PARTY_ROLE_VARIABLE}}}"
            ),
            App("Set", f"MINHU_CONF_USER={names.THREE_PARTY_DEFAULT_USER_PROFILE}"),
            *(
                App("GotoIf", f'$["${{{names.THREE_PARTY_ROLE_VARIABLE}}}" = "{role}"]?{role}')
                for role in names.THREE_PARTY_USER_PROFILES
            ),
            App("Goto", "join"),
            *(
                step
                for role, profile in names.THREE_PARTY_USER_PROFILES.items()
                for step in (App("Set", f"MINHU_CONF_USER={profile}", label=role), App("Goto", "join"))
            ),
            App("Answer", label="join"),
            App(
                "ConfBridge",
                f"${{EXTEN}},{names.THREE_PARTY_BRIDGE_PROFILE},${{MINHU_CONF_USER}},{names.THREE_PARTY_MENU}",
            ),
            App(
                "GotoIf",
                f'$["${{{names.THREE_PARTY_ROLE_VARIABLE}}}" = "citizen"]?{names.SATISFACTION_CONTEXT},s,1',
            ),
            App("Hangup"),
        ),
        # the recording rig (../shared/ami-traces/config-used/extensions.conf)
        "from-citizen": (
            App("Answer"),
            App("Set", "CALLERID(name)=张三"),
            App("Queue", "citizens,,,,120"),
            App("Hangup"),
        ),
        "citizen-sim": (App("Answer"), App("Wait", "600")),
        "agent-sim": (App("Answer"), App("Wait", "600")),
        "noanswer-sim": (App("Ringing"), App("Wait", "600")),
        "busy-sim": (App("Busy", "5"),),
        "congestion-sim": (App("Congestion", "10"),),
        "agi-test": (
            App("Answer"),
            App("AGI", f"{agi or 'agi://127.0.0.1:4573'}/ivr"),
            App("Hangup"),
        ),
    }
    return plan
