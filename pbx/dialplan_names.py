"""The names that Minhu's code and the Asterisk configuration in ``deploy/asterisk/`` share.

This is the single place in Python that spells a dialplan context, a queue, a ConfBridge
profile, the AMI user, a FastAGI script path or a channel variable that the dialplan reads or
sets. ``tests/deploy/test_asterisk_config.py`` parses ``deploy/asterisk/`` and fails when a name
here does not exist there, so renaming one side without the other breaks the build.

Plain constants only: no imports of other Minhu modules, no I/O.
"""

from types import MappingProxyType
from typing import Final

# --- AMI (manager.conf) -------------------------------------------------------------------------

AMI_USERNAME: Final = "minhu"
"""The one AMI user for Minhu (``[minhu]`` in manager.conf). Its secret is not in git: the
operator writes it to ``manager_secret.conf`` (see deploy/asterisk/README.md)."""

AMI_DEFAULT_PORT: Final = 5038
"""manager.conf ``port``; Minhu's ``MINHU_AMI_PORT`` defaults to it."""

AMI_READ_CLASSES: Final = frozenset({"system", "call", "agent"})
"""Event classes Minhu receives. ``call``: channels, bridges, dials, ConfBridge, MixMonitor,
OriginateResponse; ``agent``: queue callers and members; ``system``: FullyBooted, Reload,
ContactStatus. Not ``dialplan``: that class is only Newexten and VarSet (about 85 VarSet per
queued call), which the live model does not need."""

AMI_WRITE_CLASSES: Final = frozenset({"system", "call", "agent", "originate", "reporting", "command"})
"""Action classes Minhu may use. ``call``: Redirect, Hangup, Bridge, Setvar/Getvar, MixMonitor,
ConfbridgeKick/Mute; ``agent``: QueueAdd/Remove/Pause; ``originate``: Originate; ``reporting``:
CoreShowChannels, BridgeList, ConfbridgeList; ``system``: PJSIPShowContacts and the other status
actions; ``command``: the Command action (diagnostics). No ``config`` or ``dialplan``: Minhu never
rewrites Asterisk's configuration."""

# --- FastAGI ----------------------------------------------------------------------------------

AGI_DEFAULT_PORT: Final = 4573
"""The FastAGI port (IANA-registered). The dialplan reads host and port from the environment of
the Asterisk process: ``MINHU_AGI_HOST`` and ``MINHU_AGI_PORT``."""

AGI_IVR_SCRIPT: Final = "ivr"
"""``agi://host:port/ivr?did=<called number>``: the citizen's IVR (语音导航) on 12345. It may set
``MINHU_IVR_NEXT`` and ``MINHU_QUEUE_PRIO`` (see below)."""

AGI_OVERFLOW_SCRIPT: Final = "overflow"
"""``agi://host:port/overflow?reason=<QUEUESTATUS>``: no agent took the call in time or none is
signed in (排队溢出): leave a message or book a call back. May set ``MINHU_OVERFLOW_NEXT``."""

AGI_SATISFACTION_SCRIPT: Final = "satisfaction"
"""``agi://host:port/satisfaction``: the citizen rates the call after the agent hangs up
(满意度评价)."""

AGI_SURVEY_SCRIPT: Final = "survey"
"""``agi://host:port/survey?revisit=<MINHU_REVISIT_ID>``: the revisit dialer's survey of a citizen
whose work order was handled (回访)."""

AGI_SCRIPTS: Final = (AGI_IVR_SCRIPT, AGI_OVERFLOW_SCRIPT, AGI_SATISFACTION_SCRIPT, AGI_SURVEY_SCRIPT)
"""Every FastAGI script path the dialplan requests; Minhu's FastAGI server must route them all."""

# --- Numbers ----------------------------------------------------------------------------------

HOTLINE_NUMBER: Final = "12345"
"""The hotline's number (政务服务便民热线). The carrier may prefix the area code (``0XX12345``)."""

# --- Dialplan contexts (extensions.conf), by trust level --------------------------------------

CARRIER_INBOUND_CONTEXT: Final = "minhu-from-carrier"
"""Untrusted: calls from the carrier trunk (运营商中继). Routes only the hotline number."""

CITIZEN_ENTRY_CONTEXT: Final = "minhu-citizen-entry"
"""A citizen's call to 12345: answer, record, run the IVR over FastAGI, then the queue.
Extension = the called number."""

INBOUND_QUEUE_CONTEXT: Final = "minhu-inbound-queue"
"""``s``: the citizen waits in :data:`INBOUND_QUEUE` (来电排队)."""

OVERFLOW_CONTEXT: Final = "minhu-citizen-overflow"
"""``s``: the queue gave up (timeout, no agent signed in): :data:`AGI_OVERFLOW_SCRIPT`."""

SATISFACTION_CONTEXT: Final = "minhu-satisfaction"
"""``s``: the satisfaction rating after the agent hung up; also a Redirect target."""

AGENTS_CONTEXT: Final = "minhu-agents"
"""Trusted: agents' phones (坐席). Internal numbers, plus the PSTN through the trunk with the
hotline's caller ID and a recording. Click-to-call: Originate the agent's phone into this
context with the citizen's number as extension."""

UNITS_CONTEXT: Final = "minhu-units"
"""Semi-trusted: phones of the government units (承办单位) registered to this PBX. Internal
numbers and 12345 only, never the PSTN."""

INTERNAL_CONTEXT: Final = "minhu-internal"
"""Internal numbers shared by agents and units: 1XXX agents (SIP), 5XXX agents (WebRTC),
2XXX unit phones, 12345, ``*43`` echo test."""

THREE_PARTY_CONTEXT: Final = "minhu-threeparty"
"""The three-party call (三方通话). Extension = the ConfBridge room (digits chosen by Minhu).
Minhu sets :data:`THREE_PARTY_ROLE_VARIABLE` on the citizen and agent legs, dual-Redirects both
into this context, Originates the unit into it, and ConfbridgeKicks the agent to let citizen and
unit talk on (see ../shared/ami-traces/c-three-party-confbridge.txt)."""

DIAL_UNIT_CONTEXT: Final = "minhu-dial-unit"
"""Originate channel for a unit: ``Local/<number>@minhu-dial-unit/n``. 2XXX rings a unit phone
on this PBX, any other number goes out through the trunk."""

DIAL_CITIZEN_CONTEXT: Final = "minhu-dial-citizen"
"""Originate channel for a citizen (revisit, call back): ``Local/<number>@minhu-dial-citizen/n``.
Accepts Chinese mobile, long-distance and local numbers only; dials through the trunk with the
hotline's caller ID; busy, congestion and no-answer come back to the Originate as Reason 5, 8, 3."""

SURVEY_CONTEXT: Final = "minhu-revisit-survey"
"""``s``: the revisit dialer's Originate lands here once the citizen answers; records the call and
runs :data:`AGI_SURVEY_SCRIPT` with ``MINHU_REVISIT_ID``."""

TRANSCRIBE_CONTEXT: Final = "minhu-transcribe"
"""Live transcription (实时转写) of one leg over AudioSocket: Originate
``Local/spy@minhu-transcribe/n`` to extension :data:`TRANSCRIBE_STREAM_EXTEN` of this context
with ``MINHU_SPY_TARGET`` (the channel to listen to) and ``MINHU_STREAM_UUID`` (a UUID4 that
names the stream on the AudioSocket server at ``MINHU_AUDIOSOCKET_ADDR``)."""

TRANSCRIBE_SPY_EXTEN: Final = "spy"
"""The half of the Local channel that listens to the target with ChanSpy."""

TRANSCRIBE_STREAM_EXTEN: Final = "stream"
"""The half of the Local channel that streams what the spy hears to AudioSocket."""

ORIGINATE_CONTEXTS: Final = (
    THREE_PARTY_CONTEXT,
    DIAL_UNIT_CONTEXT,
    DIAL_CITIZEN_CONTEXT,
    SURVEY_CONTEXT,
    TRANSCRIBE_CONTEXT,
    SATISFACTION_CONTEXT,
)
"""Contexts that only Minhu's Originate/Redirect reach: no phone's context includes them."""

# --- Queue (queues.conf) ----------------------------------------------------------------------

INBOUND_QUEUE: Final = "citizens"
"""The inbound queue of citizens' calls (市民来电队列). Members are added by Minhu with QueueAdd
when an agent signs in (签入); ``persistentmembers = no``, so after an Asterisk restart Minhu adds
them again during its resync."""

PAUSE_REASONS: Final = MappingProxyType(
    {
        "wrapup": "话后整理",
        "break": "小休",
        "meal": "用餐",
        "training": "培训",
        "meeting": "会议",
        "callback": "外呼回访",
    }
)
"""The QueuePause ``Reason`` values Minhu sends (ASCII, stable, used in queue_log and reports)
and the label an agent or supervisor sees. Asterisk's own auto-pause arrives as ``Auto-Pause``."""

# --- ConfBridge (confbridge.conf) -------------------------------------------------------------

THREE_PARTY_BRIDGE_PROFILE: Final = "minhu_threeparty_bridge"
"""Bridge profile of a three-party room."""

THREE_PARTY_MENU: Final = "minhu_threeparty_menu"
"""Menu profile: no DTMF actions; the agent controls the call from Minhu's desktop."""

THREE_PARTY_ROLE_VARIABLE: Final = "MINHU_THREEPARTY_ROLE"
"""Channel variable naming a leg's role in the room: ``citizen``, ``agent`` or ``unit``."""

THREE_PARTY_USER_PROFILES: Final = MappingProxyType(
    {
        "citizen": "minhu_threeparty_citizen",
        "agent": "minhu_threeparty_agent",
        "unit": "minhu_threeparty_unit",
    }
)
"""User profile per role. The citizen is the marked user: when the citizen leaves, the agent and
the unit leave too; when the agent leaves, citizen and unit stay connected."""

THREE_PARTY_DEFAULT_USER_PROFILE: Final = "minhu_threeparty_user"
"""User profile of a leg whose role variable is unset (a plain participant)."""

# --- Channel variables shared by the dialplan and Minhu ---------------------------------------

VAR_IVR_NEXT: Final = "MINHU_IVR_NEXT"
"""Set by the IVR: ``queue`` (default) or ``hangup``."""

VAR_QUEUE_PRIO: Final = "MINHU_QUEUE_PRIO"
"""Set by the IVR: the caller's queue priority (integer, higher first), e.g. for an urgent
matter (紧急诉求)."""

VAR_OVERFLOW_NEXT: Final = "MINHU_OVERFLOW_NEXT"
"""Set by the overflow script: ``queue`` to wait again, anything else hangs up."""

VAR_REVISIT_ID: Final = "MINHU_REVISIT_ID"
"""Set by the revisit dialer's Originate: the revisit being made."""

VAR_SPY_TARGET: Final = "MINHU_SPY_TARGET"
"""Set by the transcription Originate: the full channel name to listen to."""

VAR_STREAM_UUID: Final = "MINHU_STREAM_UUID"
"""Set by the transcription Originate: the AudioSocket stream id (a UUID)."""

VAR_RECORDING: Final = "MINHU_RECORDING"
"""Set by the dialplan on a recorded channel: the recording's absolute path
(``<dir>/<YYYY>/<MM>/<DD>/<direction>-<Uniqueid>.wav``)."""
