"""``/ws/agent``: the desktop's live channel (one per user; a new one replaces the old).

The client sends ``{"type": "auth", "token": "<access token>"}`` first (a token in the URL would
end up in access logs), gets ``hello`` with the state snapshot, then the hub's messages. It may
send ``{"type": "ping"}`` (answered ``pong``). Close codes: 4401 not authenticated, 4403 role.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from minhu.services.directory import DirectoryService
from minhu.services.errors import AuthenticationFailed

from ..agents.deps import AGENT_ROLES, SUPERVISOR_ROLES
from ..agents.hub import Connection, dumps
from ..agents.runtime import PbxRuntime

router = APIRouter()

AUTH_WITHIN = 10.0


async def _authenticate(websocket: WebSocket) -> tuple[str, str] | None:
    try:
        async with asyncio.timeout(AUTH_WITHIN):
            first = json.loads(await websocket.receive_text())
    except (TimeoutError, ValueError, WebSocketDisconnect):
        return None
    token = first.get("token") if isinstance(first, dict) and first.get("type") == "auth" else None
    if not isinstance(token, str):
        return None
    state = websocket.app.state
    async with state.session_factory() as session:
        try:
            user = await DirectoryService(session, clock=state.clock).user_for_token(token, state.settings)
        except AuthenticationFailed:
            return None
        return user.username, user.role


@router.websocket("/ws/agent")
async def agent_socket(websocket: WebSocket) -> None:
    await websocket.accept()
    who = await _authenticate(websocket)
    if who is None:
        await websocket.close(code=4401, reason="not authenticated")
        return
    username, role = who
    if role not in AGENT_ROLES | SUPERVISOR_ROLES:
        await websocket.close(code=4403, reason="role")
        return
    runtime: PbxRuntime | None = getattr(websocket.app.state, "pbx", None)
    connection = Connection(username, role, websocket)
    snapshot: dict[str, Any]
    if runtime is None:
        snapshot = {
            "agent": None,
            "call": None,
            "screen_pop": None,
            "pbx_configured": False,
            "pbx_connected": False,
        }
    else:
        runtime.hub.register(connection)
        snapshot = await runtime.hub.snapshot(username)
        snapshot["pbx_configured"] = True
        snapshot["pbx_connected"] = runtime.ami.is_connected
        if connection.supervises:
            snapshot["wallboard"] = runtime.hub.wallboard()
    await websocket.send_text(dumps({"type": "hello", "user": username, "role": role, "snapshot": snapshot}))
    pump = asyncio.create_task(connection.pump(), name=f"ws-{username}")
    try:
        while not pump.done():
            receive = asyncio.ensure_future(websocket.receive_text())
            done, _ = await asyncio.wait({receive, pump}, return_when=asyncio.FIRST_COMPLETED)
            if receive not in done:
                receive.cancel()
                with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                    await receive
                break
            try:
                text = receive.result()
            except (WebSocketDisconnect, RuntimeError):
                break
            with contextlib.suppress(ValueError):
                if json.loads(text).get("type") == "ping":
                    connection.push({"type": "pong"})
    finally:
        if runtime is not None:
            runtime.hub.unregister(connection)
        else:
            connection.close()
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await pump
        with contextlib.suppress(Exception):
            await websocket.close()
