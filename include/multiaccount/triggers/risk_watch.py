"""`RiskWatchTrigger`: waits in the triggerer for a new risk event or a stale monitor heartbeat.

Polls the store (`risk_events` after the cursor, the `risk_monitor` heartbeat) every
`poll_seconds`; when `redis_url` is given it blocks on the Redis stream between polls instead of
sleeping, so an event wakes it within milliseconds. The store stays the source of truth: Redis only
shortens the wait. Store calls run in a thread (`asyncio.to_thread`) so the triggerer's event loop
never blocks. Restart the triggerer after changing this file.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

log = logging.getLogger(__name__)


class RiskWatchTrigger(BaseTrigger):
    def __init__(self, cursor: int, acked_beat: str | None = None, stale_after_seconds: float = 10.0,
                 poll_seconds: float = 2.0, db_url: str | None = None, redis_url: str | None = None,
                 redis_stream: str = "multiaccount:risk_events"):
        super().__init__()
        self.cursor = int(cursor)
        self.acked_beat = acked_beat
        self.stale_after_seconds = float(stale_after_seconds)
        self.poll_seconds = float(poll_seconds)
        self.db_url = db_url
        self.redis_url = redis_url
        self.redis_stream = redis_stream

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return ("multiaccount.triggers.risk_watch.RiskWatchTrigger", {
            "cursor": self.cursor, "acked_beat": self.acked_beat, "stale_after_seconds": self.stale_after_seconds,
            "poll_seconds": self.poll_seconds, "db_url": self.db_url, "redis_url": self.redis_url,
            "redis_stream": self.redis_stream})

    def _poll(self) -> dict[str, Any] | None:
        from multiaccount.realtime.watch import check
        from multiaccount.store import Store

        store = Store.open(self.db_url)
        return check(store, self.cursor, self.acked_beat, self.stale_after_seconds, datetime.now(UTC))

    async def _wait(self, redis: Any) -> None:
        if redis is None:
            await asyncio.sleep(self.poll_seconds)
            return
        try:
            await redis.xread({self.redis_stream: "$"}, block=int(self.poll_seconds * 1000), count=1)
        except Exception as exc:  # Redis down: fall back to plain polling
            log.warning("redis wait failed (%s); polling the store", exc)
            await asyncio.sleep(self.poll_seconds)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        redis = None
        if self.redis_url:
            import redis.asyncio as aioredis

            redis = aioredis.Redis.from_url(self.redis_url, socket_connect_timeout=1)
        try:
            while True:
                try:
                    found = await asyncio.to_thread(self._poll)
                except Exception as exc:  # store unavailable: keep waiting, it will come back
                    log.warning("risk_watch poll failed: %s", exc)
                    found = None
                if found is not None:
                    yield TriggerEvent(found)
                    return
                await self._wait(redis)
        finally:
            if redis is not None:
                await redis.aclose()
