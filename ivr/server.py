"""The FastAGI server: accepts Asterisk's connections and runs the flow of the requested script.

``agi://host:port/ivr?did=12345`` runs the flow whose ``script`` is ``ivr``; the query string is
kept as call data (``did``); ``survey?revisit=<id>`` runs the revisit survey (:mod:`ivr.survey`).
A script nothing serves (``satisfaction`` until its owner adds a handler) is logged and the socket
closed at once, so the dialplan goes on.

The server owns its connection tasks: :meth:`IvrServer.stop` stops accepting, lets the calls in
progress finish within a deadline, then cancels the rest and closes their sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import parse_qsl, urlsplit

import structlog

from ivr.agi import AgiChannel, AgiError, CallerHungUp, read_environment
from ivr.engine import CallInfo, FlowRunner, mask_number

log = structlog.get_logger("ivr.server")

Handler = Callable[[AgiChannel, Mapping[str, str], Mapping[str, str]], Awaitable[None]]
"""A script's handler: the channel, the agi_* environment, the query string's parameters."""


class AgiLine:
    """The interpreter's :class:`~ivr.engine.Line` over a FastAGI channel."""

    def __init__(self, channel: AgiChannel, log: structlog.stdlib.BoundLogger) -> None:
        self.channel = channel
        self.log = log

    async def play(self, prompt: str, escape: str = "") -> str | None:
        reply = await self.channel.stream_file(prompt, escape)
        if reply.failed:
            # not a hang-up (that raised): the sound file is missing or unplayable
            self.log.error("ivr.prompt_failed", prompt=prompt, reply=reply.line)
            return None
        return reply.digit()

    async def wait_digit(self, timeout_s: float) -> str | None:
        return (await self.channel.wait_for_digit(timeout_s)).digit()

    async def get_digits(self, prompt: str, timeout_s: float, max_digits: int) -> str:
        reply = await self.channel.get_data(prompt, timeout_s, max_digits)
        if reply.failed:
            self.log.error("ivr.prompt_failed", prompt=prompt, reply=reply.line)
            return ""
        return reply.result

    async def say_digits(self, digits: str) -> None:
        await self.channel.say_digits(digits)

    async def say_number(self, number: int) -> None:
        await self.channel.say_number(number)

    async def set_variable(self, name: str, value: str) -> None:
        await self.channel.set_variable(name, value)


def flow_handler(runner: FlowRunner) -> Handler:
    """Run ``runner``'s flow for each connection of its script."""

    async def handle(channel: AgiChannel, env: Mapping[str, str], query: Mapping[str, str]) -> None:
        call = CallInfo(
            call_id=env.get("agi_uniqueid", ""),
            caller=env.get("agi_callerid", ""),
            did=query.get("did", env.get("agi_dnid", "")),
            script=runner.flow.script,
        )
        call_log = log.bind(
            call_id=call.call_id, caller=call.masked_caller, did=call.did, flow=runner.flow.name
        )
        call_log.info("ivr.call_started", channel=env.get("agi_channel", ""))
        outcome = await runner.run(AgiLine(channel, call_log), call)
        call_log.info(
            "ivr.call_ended",
            result=outcome.result,
            node=outcome.node,
            topic=outcome.topic,
            steps=outcome.steps,
        )

    return handle


def split_script(script: str) -> tuple[str, dict[str, str]]:
    """``ivr?did=12345`` → (``ivr``, {did: 12345})."""
    parts = urlsplit(script)
    return parts.path.strip("/"), dict(parse_qsl(parts.query))


class IvrServer:
    def __init__(
        self,
        routes: Mapping[str, Handler],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        environment_timeout_s: float = 5.0,
        command_timeout_s: float = 60.0,
        hangup_grace_s: float = 0.25,
    ) -> None:
        self.routes = dict(routes)
        self.host, self.port = host, port
        self._env_timeout = environment_timeout_s
        self._command_timeout = command_timeout_s
        self._grace = hangup_grace_s
        self._server: asyncio.Server | None = None
        self._calls: set[asyncio.Task[None]] = set()

    @property
    def address(self) -> str:
        """``host:port`` as the dialplan's MINHU_AGI_HOST / MINHU_AGI_PORT."""
        return f"{self.host}:{self.port}"

    @property
    def active_calls(self) -> int:
        return len(self._calls)

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._accept, self.host, self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        log.info("ivr.server_started", address=self.address, scripts=sorted(self.routes))
        return self.port

    async def stop(self, drain_s: float = 5.0) -> None:
        if self._server is not None:
            self._server.close()
        if self._calls:
            log.info("ivr.server_draining", calls=len(self._calls), deadline_s=drain_s)
            _, pending = await asyncio.wait(set(self._calls), timeout=drain_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        log.info("ivr.server_stopped")

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._calls.add(task)
        try:
            await self._serve(reader, writer)
        finally:
            self._calls.discard(task)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        channel = AgiChannel(
            reader, writer, command_timeout_s=self._command_timeout, hangup_grace_s=self._grace
        )
        conn_log = log
        try:
            env = await read_environment(reader, self._env_timeout)
            script, query = split_script(env.get("agi_network_script", ""))
            conn_log = log.bind(
                call_id=env.get("agi_uniqueid", ""),
                caller=mask_number(env.get("agi_callerid", "")),
                script=script,
            )
            handler = self.routes.get(script)
            if handler is None:
                conn_log.warning("ivr.unknown_script", known=sorted(self.routes))
                return
            await handler(channel, env, query)
        except CallerHungUp as exc:
            conn_log.info("ivr.caller_hung_up", detail=str(exc))
        except TimeoutError:
            conn_log.warning("ivr.timeout", hung_up=channel.hung_up)
        except AgiError as exc:
            conn_log.error("ivr.agi_error", detail=str(exc))
        except asyncio.CancelledError:
            conn_log.warning("ivr.call_cancelled")
            raise
        except Exception:  # noqa: BLE001 - one call's bug must not take the server down; logged
            conn_log.exception("ivr.call_failed")
        finally:
            with contextlib.suppress(Exception):
                await channel.close()
            conn_log.debug("ivr.socket_closed", commands=channel.commands)
