"""Injectable clock: everything that depends on time takes a Clock, so tests move time without sleeping."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


def utcnow() -> datetime:
    return datetime.now(UTC)


class Clock(Protocol):
    def now(self) -> datetime:
        """Timezone-aware UTC now."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return utcnow()


class ManualClock:
    """A clock tests and simulations advance by hand (also the accelerated-week clock)."""

    def __init__(self, start: datetime):
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta | float) -> datetime:
        with self._lock:
            self._now += delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
            return self._now

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("naive datetime")
        with self._lock:
            self._now = when.astimezone(UTC)


CLOCK_START_ENV = "MULTIACCOUNT_CLOCK_START"
CLOCK_ANCHOR_ENV = "MULTIACCOUNT_CLOCK_ANCHOR"
CLOCK_SPEED_ENV = "MULTIACCOUNT_CLOCK_SPEED"


class AcceleratedClock:
    """Simulated time that runs `speed` times faster than the wall clock from `start` at wall epoch `anchor`.

    `now = start + (time.time() - anchor) * speed`. Separate processes (the demo, the realtime service
    subprocess, Airflow tasks) built from the same three numbers agree on "now" without talking to
    each other, so a simulated week can be driven end to end.
    """

    def __init__(self, start: datetime, anchor: float, speed: float = 1.0):
        if start.tzinfo is None:
            raise ValueError("AcceleratedClock needs a timezone-aware start")
        if speed <= 0:
            raise ValueError(f"clock speed must be positive, got {speed}")
        self.start = start.astimezone(UTC)
        self.anchor = float(anchor)
        self.speed = float(speed)

    def now(self) -> datetime:
        import time

        return self.start + timedelta(seconds=(time.time() - self.anchor) * self.speed)


def clock_from_env(environ: dict[str, str] | None = None) -> Clock:
    """`AcceleratedClock` when MULTIACCOUNT_CLOCK_START (ISO, UTC if no offset) is set, else `SystemClock`.

    MULTIACCOUNT_CLOCK_ANCHOR is the wall epoch (seconds) at which simulated time equals the start
    (default: now, i.e. this process starts the clock); MULTIACCOUNT_CLOCK_SPEED defaults to 1.
    """
    import os
    import time

    env = os.environ if environ is None else environ
    raw = (env.get(CLOCK_START_ENV) or "").strip()
    if not raw:
        return SystemClock()
    start = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    anchor = float(env.get(CLOCK_ANCHOR_ENV) or time.time())
    speed = float(env.get(CLOCK_SPEED_ENV) or 1.0)
    return AcceleratedClock(start, anchor, speed)
