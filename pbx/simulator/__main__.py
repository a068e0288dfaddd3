"""``python -m pbx.simulator --ami-port 5038 --agi-server 127.0.0.1:4573 --scenario demo``

The simulated PBX for ``make demo``: an AMI server on 127.0.0.1 and, for every scripted call,
a FastAGI client to Minhu's IVR. Scenarios by name (``--scenario``): ``idle`` (only what AMI
clients ask for), ``demo`` (citizens of the demo city calling through the IVR), or a
recording name (``b-inbound-queue-call``...) to replay that recorded session.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from pbx.simulator.citizen import Citizen, HangUp, Press, Step
from pbx.simulator.recording import bundled_recordings, load_recording
from pbx.simulator.scenarios import Answers, InboundCall, Scenario
from pbx.simulator.server import AmiSimulator, SimulatorSettings

log = logging.getLogger("pbx.simulator")


DEMO_CALL_EVERY_S = 45.0
DEMO_CALLS = 240  # three hours of citizens


def demo_calls(every: float = DEMO_CALL_EVERY_S, count: int = DEMO_CALLS) -> tuple[InboundCall, ...]:
    """Citizens of the demo city (``minhu seed-demo`` gives them earlier orders, so the agent's
    screen pop shows a history) calling 12345 one after another: most press 1 for an agent and
    wait in the queue; some ask for an order's progress (2) or hang up in the greeting."""
    calls = []
    for n in range(count):
        number = f"1380375{n % 30 + 1:04d}"
        name = f"市民{n % 30 + 1:02d}"
        steps: tuple[Step, ...]
        if n % 6 == 4:
            steps = (Press("2", at=4.0), Press("20261001000001#", at=8.0), HangUp(at=40.0))
        elif n % 6 == 5:
            steps = (HangUp(at=6.0),)
        else:
            steps = (Press("1", at=4.0), HangUp(at=240.0))
        calls.append(InboundCall(Citizen.scripted(*steps, number=number, name=name), at=10.0 + n * every))
    return tuple(calls)


def named_scenarios() -> dict[str, Scenario]:
    return {
        "idle": Scenario(),
        "demo": Scenario(
            name="demo",
            # agents sign in from the desktop (QueueAdd with their softphone, PJSIP/1001 ...)
            calls=demo_calls(),
            destinations=(
                ("PJSIP/19*", Answers(after=1.0)),  # supervisors' phones (listen in)
                ("PJSIP/1*", Answers(after=3.0)),  # agents' softphones: picked up, the agent talks
            ),
            default_behaviour=Answers(after=5.0),  # units' phones for 三方通话
        ),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m pbx.simulator", description=__doc__.splitlines()[0])
    parser.add_argument("--ami-port", type=int, default=5038)
    parser.add_argument("--agi-server", default=None, help="host:port of Minhu's FastAGI server")
    parser.add_argument("--scenario", default="idle", help="idle, demo, or a bundled recording's name")
    parser.add_argument("--time-scale", type=float, default=1.0, help="real seconds per simulated second")
    parser.add_argument("--username", default="hotline")
    parser.add_argument("--secret", default="hotline-secret")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> None:
    settings = SimulatorSettings(username=args.username, secret=args.secret, time_scale=args.time_scale)
    scenarios = named_scenarios()
    recordings = bundled_recordings()
    if args.scenario in scenarios:
        simulator = AmiSimulator(
            None, settings, scenario=scenarios[args.scenario], agi_server=args.agi_server
        )
    elif args.scenario in recordings:
        simulator = AmiSimulator(
            load_recording(recordings[args.scenario]), settings, agi_server=args.agi_server
        )
    else:
        raise SystemExit(f"unknown scenario {args.scenario!r}: {', '.join([*scenarios, *recordings])}")
    port = await simulator.start("127.0.0.1", args.ami_port)
    log.info(
        "simulated PBX: AMI on 127.0.0.1:%d, scenario %s, FastAGI %s", port, args.scenario, args.agi_server
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await simulator.stop()


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
