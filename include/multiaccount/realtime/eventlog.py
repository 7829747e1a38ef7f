"""Where risk events and heartbeats go: the store first, Redis when configured, never lost.

The store can be unavailable for a while (PostgreSQL restart, SQLite locked by a backup). The
monitor must keep acting, so writes go through `BufferedEventLog`: an event that cannot be
written is kept in memory *and* spilled to a JSONL file under MULTIACCOUNT_HOME, and every later
write (and every monitor tick) replays the buffer in order first. A crash while the store is down
therefore loses nothing either: the next start replays the spill file.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import deque
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from multiaccount.realtime.events import RiskEvent

log = logging.getLogger(__name__)

HEARTBEAT_COMPONENT = "realtime"
REDIS_STREAM = "multiaccount:risk_events"
REDIS_HEARTBEAT_KEY = "multiaccount:heartbeat:realtime"
REDIS_STREAM_MAXLEN = 10_000


class RiskEventLog(Protocol):
    """Append-only log with an integer cursor (the store's `risk_events` repository)."""

    def append(self, event: RiskEvent) -> int:
        """Persist the event; returns its cursor position."""
        ...

    def since(self, cursor: int, limit: int = 100) -> list[tuple[int, RiskEvent]]:
        """Events after `cursor`, oldest first."""
        ...


class HeartbeatPort(Protocol):
    def beat(self, component: str, at: datetime, detail: dict[str, Any]) -> None:
        ...

    def last(self, component: str) -> datetime | None:
        ...


class EventPublisher(Protocol):
    """A low-latency side channel (Redis stream); failures there never block the monitor."""

    def publish(self, event: RiskEvent) -> None:
        ...

    def beat(self, at: datetime, detail: dict[str, Any]) -> None:
        ...


class BufferedEventLog:
    """Writes through to `inner`; buffers in order (memory + spill file) while `inner` fails."""

    def __init__(self, inner: RiskEventLog, spill_path: Path | None = None,
                 publishers: Iterable[EventPublisher] = ()):
        self._inner = inner
        self._spill = spill_path
        self._publishers = list(publishers)
        self._pending: deque[RiskEvent] = deque()
        self._lock = threading.RLock()
        self._load_spill()

    # -- public
    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def append(self, event: RiskEvent) -> bool:
        """Record the event. True when it (and everything before it) reached the store."""
        for pub in self._publishers:
            try:
                pub.publish(event)
            except Exception as exc:  # the side channel is best effort
                log.warning("risk event publisher failed: %s", exc)
        with self._lock:
            self._pending.append(event)
            return self._flush_locked()

    def flush(self) -> bool:
        """Replay buffered events; True when the buffer is empty afterwards."""
        with self._lock:
            return self._flush_locked()

    def since(self, cursor: int, limit: int = 100) -> list[tuple[int, RiskEvent]]:
        return self._inner.since(cursor, limit)

    # -- internals
    def _flush_locked(self) -> bool:
        had_pending = len(self._pending)
        while self._pending:
            try:
                self._inner.append(self._pending[0])
            except Exception as exc:
                log.warning("store unavailable, %d risk event(s) buffered: %s", len(self._pending), exc)
                self._write_spill()
                return False
            self._pending.popleft()
        if had_pending > 1 or (self._spill is not None and self._spill.exists()):
            log.info("risk event buffer replayed (%d event(s))", had_pending)
            self._remove_spill()
        return True

    def _write_spill(self) -> None:
        if self._spill is None:
            return
        self._spill.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._spill.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            for ev in self._pending:
                fh.write(json.dumps(ev.to_dict()) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self._spill)

    def _remove_spill(self) -> None:
        if self._spill is not None:
            self._spill.unlink(missing_ok=True)

    def _load_spill(self) -> None:
        if self._spill is None or not self._spill.exists():
            return
        for line in self._spill.read_text(encoding="utf-8").splitlines():
            if line.strip():
                self._pending.append(RiskEvent.from_dict(json.loads(line)))
        log.info("loaded %d buffered risk event(s) from %s", len(self._pending), self._spill)


class RedisPublisher:
    """Risk events to a Redis stream (XADD, capped) and the heartbeat to a key with a TTL."""

    def __init__(self, url: str, stream: str = REDIS_STREAM, heartbeat_key: str = REDIS_HEARTBEAT_KEY,
                 heartbeat_ttl_seconds: int = 60):
        import redis  # imported here: Redis is optional

        self._r = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.stream = stream
        self.heartbeat_key = heartbeat_key
        self._ttl = heartbeat_ttl_seconds

    def publish(self, event: RiskEvent) -> None:
        self._r.xadd(self.stream, {"event": json.dumps(event.to_dict())}, maxlen=REDIS_STREAM_MAXLEN,
                     approximate=True)

    def beat(self, at: datetime, detail: dict[str, Any]) -> None:
        self._r.set(self.heartbeat_key, json.dumps({"at": at.isoformat(), **detail}), ex=self._ttl)

    def close(self) -> None:
        self._r.close()


def redis_publisher_from_env() -> RedisPublisher | None:
    """`MULTIACCOUNT_REDIS_URL` set -> a publisher; unset -> None (the store alone is enough)."""
    url = os.environ.get("MULTIACCOUNT_REDIS_URL", "").strip()
    return RedisPublisher(url) if url else None
