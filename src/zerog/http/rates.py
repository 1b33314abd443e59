"""``/api/rate-limits``: the rate limits (jobs started per period per name, across every
worker), set and removed by name, and the routes' part of the OpenAPI document."""

from __future__ import annotations

from typing import Any

from zerog.http import _components as c
from zerog.http._base import ApiError, ApiHandler
from zerog.http._openapi_parts import BAD, JSON, NOT_SUPPORTED, answers, path_text
from zerog.store import Store


def rate_limits_view(store: Store) -> dict[str, Any]:
    """Every rate limit: its name, maximum starts and period."""
    return {
        "rate_limits": [
            {"name": name, "maximum": maximum, "per": per}
            for name, (maximum, per) in sorted(store.rate_limits().items())
        ]
    }


class RateLimitsHandler(ApiHandler):
    """``GET /api/rate-limits``: every rate limit; 501 on a backend without limits."""

    async def get(self) -> None:
        self.send_json(await self.call(rate_limits_view))


MAX_STARTS = 10**9  # a larger maximum is no limit at all; the stores keep 64-bit integers.
MAX_PER = 366 * 86400.0


class RateLimitHandler(ApiHandler):
    """``POST /api/rate-limits/{name}`` with ``{"maximum": N, "per": seconds}`` sets one (per
    defaults to 1 s); ``DELETE`` removes it. Both are in the audit trail."""

    async def post(self, name: str) -> None:
        key = self.param(name, "the rate limit's name")
        maximum, per = _rate_of(self.json_body({}))
        await self.call(lambda store: store.set_rate_limit(key, maximum, per=per))
        self.send_json(await self.call(rate_limits_view))

    async def delete(self, name: str) -> None:
        key = self.param(name, "the rate limit's name")
        await self.call(lambda store: store.set_rate_limit(key, None))
        self.send_json(await self.call(rate_limits_view))


def _rate_of(body: Any) -> tuple[int, float]:
    """The maximum and period a request body asks for; 400 unless they are numbers in range
    (a JSON number with no fraction counts as a whole number)."""
    usage = 'the body is {"maximum": N (0 to 10^9), "per": seconds (> 0, at most a year)}'
    if not isinstance(body, dict):
        raise ApiError(400, usage)
    maximum, per = body.get("maximum"), body.get("per", 1.0)
    if isinstance(maximum, float) and maximum.is_integer():
        maximum = int(maximum)
    numbers = not isinstance(maximum, bool) and not isinstance(per, bool)
    if not (numbers and isinstance(maximum, int) and isinstance(per, int | float)):
        raise ApiError(400, usage)
    if not (0 <= maximum <= MAX_STARTS and 0 < per <= MAX_PER):
        raise ApiError(400, usage)
    return maximum, float(per)


def rate_limit_paths(prefix: str) -> dict[str, Any]:
    """The routes' paths in the OpenAPI document."""
    one = c.obj({"name": c.STRING, "maximum": {"type": "integer"}, "per": c.NUMBER})
    listing = c.obj({"rate_limits": {"type": "array", "items": one}})
    ok = {"200": {"description": "the rate limits now", "content": {JSON: {"schema": listing}}}}
    name = path_text("name", "queue:<queue>, or a throttle jobs carry")
    per = {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_PER}
    starts = {"type": "integer", "minimum": 0, "maximum": MAX_STARTS}
    body = c.obj({"maximum": starts, "per": per}, ["maximum"])
    return {
        f"{prefix}/api/rate-limits": {
            "get": {
                "operationId": "listRateLimits",
                "summary": "Rate limits: at most N jobs start per period, per name",
                "responses": {**ok, **answers(None, NOT_SUPPORTED)},
            }
        },
        f"{prefix}/api/rate-limits/{{name}}": {
            "post": {
                "operationId": "setRateLimit",
                "summary": "Set a rate limit (at most maximum starts in any window of per s)",
                "parameters": [name],
                "requestBody": {"required": True, "content": {JSON: {"schema": body}}},
                "responses": {**ok, **answers(None, BAD, NOT_SUPPORTED)},
            },
            "delete": {
                "operationId": "removeRateLimit",
                "summary": "Remove a rate limit",
                "parameters": [name],
                "responses": {**ok, **answers(None, NOT_SUPPORTED)},
            },
        },
    }
