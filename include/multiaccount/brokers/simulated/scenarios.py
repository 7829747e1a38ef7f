"""Scripted shocks for the simulated terminals (config/scenarios/*.json).

A scenario is a list of events, each active over a time window of *simulated* time:
- `price_jump`: a symbol's log price moves by `sigmas` daily standard deviations at `at`;
- `disconnect`: terminals of the listed accounts (all when empty) lose their connection between
  `start` and `end`; mode `ipc` makes every API call fail (None + last_error -10004), mode `server`
  keeps reads working but answers orders with 10031 (no connection to the trade server);
- `requote_storm`: market orders are requoted (10004) with `probability`, decided deterministically
  from the order's comment and the time;
- `latency`: every order_send takes `ms` milliseconds of wall time (the pool benchmark uses 20 ms);
- `timeout`: orders are executed (when `executed`) but the answer is lost: retcode 10012, so the
  caller must reconcile before resending.

The active scenario is shared by all processes through `MULTIACCOUNT_HOME/sim/scenario.json`
(`multiaccount sim scenario <file>`), or passed explicitly to a terminal.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from multiaccount.brokers.simulated.market import PriceJump


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    start: datetime | None = None
    end: datetime | None = None

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("scenario times must carry a time zone (e.g. ...Z)")
        return v.astimezone(UTC) if v is not None else None

    def active(self, t: datetime) -> bool:
        return (self.start is None or t >= self.start) and (self.end is None or t < self.end)


class PriceJumpEvent(_Event):
    kind: Literal["price_jump"]
    symbol: str
    at: datetime
    sigmas: float = Field(ge=-50, le=50)

    @field_validator("at")
    @classmethod
    def _aware_at(cls, v: datetime) -> datetime:
        if v.tzinfo is None:
            raise ValueError("scenario times must carry a time zone (e.g. ...Z)")
        return v.astimezone(UTC)


class DisconnectEvent(_Event):
    kind: Literal["disconnect"]
    accounts: list[str] = []
    mode: Literal["ipc", "server"] = "ipc"

    def affects(self, account_id: str | None, t: datetime) -> bool:
        return self.active(t) and (not self.accounts or account_id in self.accounts)


class RequoteStormEvent(_Event):
    kind: Literal["requote_storm"]
    probability: float = Field(1.0, ge=0, le=1)
    symbols: list[str] = []


class LatencyEvent(_Event):
    kind: Literal["latency"]
    ms: float = Field(ge=0, le=60_000)


class TimeoutEvent(_Event):
    kind: Literal["timeout"]
    executed: bool = True
    accounts: list[str] = []


Event = Annotated[PriceJumpEvent | DisconnectEvent | RequoteStormEvent | LatencyEvent | TimeoutEvent,
                  Field(discriminator="kind")]


class Scenario(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str = ""
    events: list[Event] = []

    @classmethod
    def load(cls, path: Path | str) -> Scenario:
        return cls.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))

    def jumps(self) -> tuple[PriceJump, ...]:
        return tuple(PriceJump(e.symbol, e.at, e.sigmas) for e in self.events if isinstance(e, PriceJumpEvent))

    def disconnect(self, account_id: str | None, t: datetime) -> DisconnectEvent | None:
        for e in self.events:
            if isinstance(e, DisconnectEvent) and e.affects(account_id, t):
                return e
        return None

    def requote(self, symbol: str, key: str, t: datetime) -> bool:
        for e in self.events:
            if isinstance(e, RequoteStormEvent) and e.active(t) and (not e.symbols or symbol in e.symbols):
                h = hashlib.sha256(f"{key}|{t.isoformat()}".encode()).digest()
                if int.from_bytes(h[:4], "big") / 2**32 < e.probability:
                    return True
        return False

    def latency_ms(self, t: datetime) -> float:
        return sum(e.ms for e in self.events if isinstance(e, LatencyEvent) and e.active(t))

    def timeout(self, account_id: str | None, t: datetime) -> TimeoutEvent | None:
        for e in self.events:
            if isinstance(e, TimeoutEvent) and e.active(t) and (not e.accounts or account_id in e.accounts):
                return e
        return None


EMPTY = Scenario(name="none")
