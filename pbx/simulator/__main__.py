"""``python -m pbx.simulator --ami-port 5038 --agi-server 127.0.0.1:4573 --scenario demo``

The simulated PBX for ``make demo``: an AMI server on 127.0.0.1 and, for every scripted call,
a FastAGI client to Minhu's IVR. Scenarios by name (``--scenario``): ``idle`` (only what AMI
clients ask for), ``demo`` (two agents signed in, a few citizens calling through the IVR), or a
recording name (``b-inbound-queue-call``...) to replay that recorded session.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from pbx.simulator.citizen import Citizen, HangUp, Press
from pbx.simulator.recording import bundled_recordings, load_recording
from pbx.simulator.scenarios import Answers, InboundCall, MemberSpec, RingsOut, Scenario
from pbx.simulator.server import AmiSimulator, SimulatorSettings

log = logging.getLogger("pbx.simulator")


def named_scenarios() -> dict[str, Scenario]:
    return {
        "idle": Scenario(),
        "demo": Scenario(
            name="demo",
            members=(MemberSpec("PJSIP/1001", "坐席1001"), MemberSpec("PJSIP/1002", "坐席1002", paused=True)),
            calls=(
                InboundCall(Citizen.scripted(Press("1", at=4.0), HangUp(at=90.0), name="张三丰"), at=2.0),
                InboundCall(
                    Citizen.scripted(
                        Press("2", at=4.0),
                        Press("20240001#", at=8.0),
                        HangUp(at=40.0),
                        number="13900139000",
                        name="李四",
                    ),
                    at=20.0,
                ),
                InboundCall(Citizen.scripted(HangUp(at=25.0), number="13700137000", name="王五"), at=40.0),
            ),
            destinations=(("PJSIP/1001", Answers(after=3.0, hang_up_after=60.0)), ("PJSIP/2*", RingsOut())),
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
