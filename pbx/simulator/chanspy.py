"""``ChanSpy()`` as a supervisor's listen-in (监听) uses it: Minhu Originates the supervisor's phone
with ``Application=ChanSpy``, ``Data=<agent interface>,qE``. The spy listens to a channel whose
name starts with the interface (``PJSIP/1001`` spies on ``PJSIP/1001-00000003``) once one is up,
with a ``ChanSpyStart`` event, and a ``ChanSpyStop`` when that channel goes; option ``E`` ends
the application (and so the supervisor's call) then. The events carry the spyer's and the
spyee's channel snapshots with the ``Spyer``/``Spyee`` prefixes of Asterisk's manager
documentation (no recording of them exists).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pbx.ami_protocol import AmiMessage
from pbx.simulator.call_record import CallRecord
from pbx.simulator.world import UP, SimChannel

if TYPE_CHECKING:
    from pbx.simulator.scenario_engine import ScenarioEngine

LOOK_EVERY = 0.5
"""Call seconds between two looks for a channel to spy on (ChanSpy scans the same way)."""


class ChanSpy:
    def __init__(self, engine: ScenarioEngine) -> None:
        self.engine = engine

    async def run(self, record: CallRecord, spyer: SimChannel, data: str) -> None:
        """Until the spyer hangs up, or (option ``E``) the spied channel hangs up."""
        prefix, _, options = data.partition(",")
        exit_with_spyee = "E" in options
        spyee: SimChannel | None = None
        while not spyer.hangup_requested.is_set() and not spyer.gone:
            if spyee is not None and (spyee.gone or spyee.hangup_requested.is_set()):
                self._event("ChanSpyStop", spyer, spyee)
                spyee = None
                if exit_with_spyee:
                    return
            if spyee is None:
                spyee = self._target(prefix, spyer)
                if spyee is not None:
                    self._event("ChanSpyStart", spyer, spyee)
            record.wake.clear()
            await record.clock.advance(LOOK_EVERY, record.wake)
        if spyee is not None:
            self._event("ChanSpyStop", spyer, spyee)

    def _target(self, prefix: str, spyer: SimChannel) -> SimChannel | None:
        for channel in self.engine.world.channels.values():
            if channel is spyer or channel.gone or channel.state != UP:
                continue
            if channel.name == prefix or channel.name.startswith(f"{prefix}-"):
                return channel
        return None

    def _event(self, name: str, spyer: SimChannel, spyee: SimChannel) -> None:
        self.engine.world.publish(
            AmiMessage(
                (
                    ("Event", name),
                    ("Privilege", "call,all"),
                    *spyer.snapshot("Spyer").items(),
                    *spyee.snapshot("Spyee").items(),
                )
            )
        )
