"""The API's routes are registered flat (agent_desktop/routing.py), with the same document."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from agent_desktop.app import API_PREFIX
from agent_desktop.routers import orders
from agent_desktop.routing import add_routes

from .city import City


def test_flat_routes_give_the_openapi_document_include_router_gives() -> None:
    flat = FastAPI(title="t")
    add_routes(flat, orders.router, prefix=API_PREFIX)
    nested = FastAPI(title="t")
    api = APIRouter(prefix=API_PREFIX)
    api.include_router(orders.router)
    nested.include_router(api)
    assert flat.openapi() == nested.openapi()
    assert all(isinstance(r, APIRoute) for r in flat.routes if getattr(r, "path", "").startswith("/api"))


@pytest.mark.db
async def test_every_api_path_answers_through_the_flat_routes(city: City) -> None:
    paths = (await city.client.get("/openapi.json")).json()["paths"]
    assert "/api/v1/orders" in paths and "/api/v1/orders/{number}/check-in" in paths
    # Not signed in: every API route is found (401), none falls through to 404.
    for path, operations in paths.items():
        if not path.startswith(API_PREFIX) or "{" in path or path.endswith("/token"):
            continue
        for method in operations:
            r = await city.client.request(method.upper(), path)
            assert r.status_code == 401, (method, path, r.status_code, r.text)
    assert (await city.client.get("/api/v1/no-such-thing")).status_code == 404
