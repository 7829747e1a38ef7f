"""Core value types: sides, states, scopes, positions, account states, signals, order intents/outcomes."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"


class TradingState(StrEnum):
    """ACTIVE trades freely; REDUCING allows only risk-reducing orders; HALTED allows nothing new."""

    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"


class ScopeKind(StrEnum):
    FIRM = "firm"
    GROUP = "group"
    ACCOUNT = "account"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True, order=True)
class Scope:
    kind: ScopeKind
    name: str = "firm"

    @classmethod
    def firm(cls) -> Scope:
        return cls(ScopeKind.FIRM, "firm")

    @classmethod
    def group(cls, name: str) -> Scope:
        return cls(ScopeKind.GROUP, name)

    @classmethod
    def account(cls, name: str) -> Scope:
        return cls(ScopeKind.ACCOUNT, name)

    @classmethod
    def parse(cls, text: str) -> Scope:
        """`firm`, `group:high_frequency`, `account:EU_HF_001`."""
        if text == "firm":
            return cls.firm()
        kind, _, name = text.partition(":")
        if not name:
            raise ValueError(f"scope '{text}' must be 'firm', 'group:<name>' or 'account:<id>'")
        return cls(ScopeKind(kind), name)

    def __str__(self) -> str:
        return "firm" if self.kind is ScopeKind.FIRM else f"{self.kind.value}:{self.name}"


@dataclass(frozen=True)
class Position:
    """An open position as the broker reports it (MT5 TradePosition, in our terms)."""

    account_id: str
    ticket: int
    symbol: str
    side: Side
    volume: float
    price_open: float
    sl: float | None
    tp: float | None
    price_current: float
    profit: float
    swap: float = 0.0
    opened_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    magic: int = 0
    comment: str = ""


@dataclass(frozen=True)
class AccountState:
    """An account's money at one instant (MT5 AccountInfo subset), plus connection status."""

    account_id: str
    balance: float
    equity: float
    margin: float
    margin_free: float
    margin_level: float | None
    currency: str = "USD"
    leverage: int = 100
    margin_so_call: float = 50.0
    margin_so_so: float = 30.0
    connected: bool = True
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


class TradingSignal(BaseModel):
    """A trading signal entering the system (realtime API, CLI, demo): validated at the boundary."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    symbol: str = Field(min_length=3, max_length=16)
    side: Side
    order_type: OrderType = OrderType.MARKET
    entry: float | None = Field(None, gt=0)
    stop: float = Field(gt=0)
    take_profit: float | None = Field(None, gt=0)
    take_profit_ratio: float | None = Field(None, gt=0, le=20)
    strategy: str = Field(min_length=1, max_length=64)
    created: datetime
    expires: datetime | None = None

    @field_validator("entry", "stop", "take_profit", "take_profit_ratio")
    @classmethod
    def _finite(cls, v: float | None) -> float | None:
        if v is not None and not math.isfinite(v):
            raise ValueError("must be a finite number")
        return v

    @field_validator("created", "expires")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("must carry a time zone")
        return v.astimezone(UTC) if v is not None else None

    @model_validator(mode="after")
    def _consistent(self) -> TradingSignal:
        if self.order_type is not OrderType.MARKET and self.entry is None:
            raise ValueError("pending orders need an entry price")
        if self.entry is not None:
            if self.side is Side.BUY and self.stop >= self.entry:
                raise ValueError("stop must be below entry for a buy")
            if self.side is Side.SELL and self.stop <= self.entry:
                raise ValueError("stop must be above entry for a sell")
            if self.take_profit is not None and (self.take_profit - self.entry) * self.side.sign <= 0:
                raise ValueError("take profit must be on the profit side of entry")
        if self.expires is not None and self.expires <= self.created:
            raise ValueError("expires must be after created")
        return self


def client_order_id(signal_id: str, account_id: str, leg: str = "open") -> str:
    """Deterministic short id (fits MT5's 31-char comment): same signal+account+leg -> same id."""
    digest = hashlib.sha256(f"{signal_id}|{account_id}|{leg}".encode()).hexdigest()[:16]
    return f"ma-{digest}"


@dataclass(frozen=True)
class OrderIntent:
    """What we intend to send to one account: sized, checked, with its audit trail."""

    client_id: str
    account_id: str
    symbol: str
    side: Side
    volume: float
    order_type: OrderType = OrderType.MARKET
    price: float | None = None
    sl: float | None = None
    tp: float | None = None
    deviation: int = 10
    signal_id: str | None = None
    position_ticket: int | None = None  # set for closes / partial closes
    reduce_only: bool = False
    factors: dict[str, Any] = field(default_factory=dict)


class OrderStatus(StrEnum):
    FILLED = "filled"
    PARTIAL = "partial"
    PLACED = "placed"
    REJECTED = "rejected"
    SKIPPED = "skipped"
    UNKNOWN = "unknown"  # outcome uncertain (timeout/connection): reconcile before any resend
    DUPLICATE = "duplicate"  # already executed under this client id


@dataclass(frozen=True)
class OrderOutcome:
    client_id: str
    account_id: str
    status: OrderStatus
    retcode: int | None = None
    reason: str = ""
    volume: float = 0.0
    price: float | None = None
    ticket: int | None = None
    deal: int | None = None
    latency_ms: float | None = None
