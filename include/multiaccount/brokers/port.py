"""The `Broker` port: what the rest of the platform may ask of one trading account's terminal.

A Broker is bound to ONE account. Connection problems raise `BrokerUnavailable` (retryable: the
pool reconnects with backoff); a refused order is never an exception but an
`OrderOutcome(status=REJECTED, retcode=..., reason="CODE: ...")`, so a bad request cannot kill a
fan-out. Every implementation must make `send` idempotent by `intent.client_id`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from multiaccount.domain import AccountState, OrderIntent, OrderOutcome, OrderType, Position, Side


class BrokerError(Exception):
    """Base class of broker-layer exceptions."""


class BrokerUnavailable(BrokerError):
    """The terminal or its trade server cannot be reached (IPC/socket/login failure). Retryable."""


class TransferNotSupported(BrokerError):
    """Balance operations cannot be done through this terminal: create a human-confirmed instruction."""


class DealEntry(StrEnum):
    IN = "in"
    OUT = "out"
    INOUT = "inout"
    OUT_BY = "out_by"


@dataclass(frozen=True)
class SymbolInfo:
    """The subset of MT5 `symbol_info()` that sizing, validation and risk need."""

    name: str
    digits: int
    point: float
    contract_size: float
    volume_min: float
    volume_step: float
    volume_max: float
    tick_size: float
    tick_value: float
    trade_stops_level: int
    filling_mode: int
    bid: float
    ask: float
    currency_base: str
    currency_profit: str
    swap_long: float
    swap_short: float


@dataclass(frozen=True)
class Deal:
    """One row of MT5 deal history (`history_deals_get`). Balance operations have `side=None`, kind 'balance'."""

    account_id: str
    ticket: int
    order: int
    time: datetime
    symbol: str
    side: Side | None
    entry: DealEntry
    volume: float
    price: float
    commission: float
    swap: float
    profit: float
    comment: str
    magic: int
    position_id: int
    kind: str = "trade"  # "trade" | "balance"
    reason: int = 0  # MT5 DEAL_REASON_* (4 = SL, 5 = TP, 6 = stop-out)


@dataclass(frozen=True)
class PendingOrder:
    """An open pending order (MT5 `orders_get()`)."""

    account_id: str
    ticket: int
    symbol: str
    side: Side
    order_type: OrderType
    volume: float
    price: float
    sl: float | None
    tp: float | None
    placed_at: datetime
    magic: int = 0
    comment: str = ""


@dataclass(frozen=True)
class ConnectionStatus:
    """How an account's terminal connection stands, as the pool last saw it."""

    account_id: str
    connected: bool
    since: datetime | None
    last_error: str = ""
    worker: int | None = None
    restarts: int = 0


class Broker(ABC):
    """One trading account behind one terminal connection."""

    account_id: str

    @abstractmethod
    def connect(self) -> None:
        """Initialize/login the terminal for this account; raises BrokerUnavailable on failure."""

    @abstractmethod
    def is_connected(self) -> bool:
        """True when the terminal answers for this account (does not raise)."""

    @abstractmethod
    def account_state(self) -> AccountState:
        ...

    @abstractmethod
    def positions(self) -> list[Position]:
        ...

    @abstractmethod
    def pending_orders(self) -> list[PendingOrder]:
        ...

    @abstractmethod
    def symbol_info(self, symbol: str) -> SymbolInfo:
        """Raises KeyError for a symbol the server does not know."""

    @abstractmethod
    def check(self, intent: OrderIntent) -> OrderOutcome:
        """order_check: would the server accept it (margin, volume, stops)? Executes nothing."""

    @abstractmethod
    def send(self, intent: OrderIntent) -> OrderOutcome:
        """Open a market or pending order; idempotent by `intent.client_id`."""

    @abstractmethod
    def close(self, ticket: int, volume: float | None = None, client_id: str | None = None,
              deviation: int = 10) -> OrderOutcome:
        """Close a position fully (volume None) or partially; idempotent by `client_id`."""

    @abstractmethod
    def modify(self, ticket: int, sl: float | None, tp: float | None) -> OrderOutcome:
        """Change a position's stop-loss / take-profit (TRADE_ACTION_SLTP)."""

    @abstractmethod
    def cancel(self, ticket: int) -> OrderOutcome:
        """Remove a pending order (TRADE_ACTION_REMOVE)."""

    @abstractmethod
    def deals(self, since: datetime) -> list[Deal]:
        ...

    @abstractmethod
    def balance_operation(self, amount: Decimal, comment: str) -> OrderOutcome:
        """Deposit (>0) or withdraw (<0). Only simulated terminals can; real ones raise TransferNotSupported."""

    @abstractmethod
    def shutdown(self) -> None:
        ...
