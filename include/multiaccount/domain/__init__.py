"""Pure domain types shared by every layer: no I/O, no Airflow, no broker SDK."""

from multiaccount.domain.clock import AcceleratedClock, Clock, ManualClock, SystemClock, clock_from_env, utcnow
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
    "AcceleratedClock", "AccountState", "Clock", "ManualClock", "OrderIntent", "OrderOutcome", "OrderStatus",
    "OrderType", "Position", "Scope", "ScopeKind", "Severity", "Side", "SystemClock", "TradingSignal", "TradingState",
    "client_order_id", "clock_from_env", "utcnow",
]
