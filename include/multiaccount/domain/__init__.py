"""Pure domain types shared by every layer: no I/O, no Airflow, no broker SDK."""

from multiaccount.domain.clock import Clock, ManualClock, SystemClock, utcnow
from multiaccount.domain.model import (
    AccountState,
    OrderIntent,
    OrderOutcome,
    OrderStatus,
    OrderType,
    Position,
    Scope,
    ScopeKind,
    Severity,
    Side,
    TradingSignal,
    TradingState,
    client_order_id,
)

__all__ = [
    "AccountState", "Clock", "ManualClock", "OrderIntent", "OrderOutcome", "OrderStatus", "OrderType", "Position",
    "Scope", "ScopeKind", "Severity", "Side", "SystemClock", "TradingSignal", "TradingState", "client_order_id",
    "utcnow",
]
