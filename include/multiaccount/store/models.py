"""SQLAlchemy 2 models of everything the firm must remember: the store is the source of truth.

Conventions: every timestamp is `UTCDateTime` (aware UTC), money in transfers and the order ledger
is `ExactDecimal` (Decimal), broker-reported figures that are floats at the source (equity, P&L)
stay floats. Append-only tables use an autoincrement `id` so pollers can keep a cursor.
The Alembic migrations in `store/migrations/` must match these models exactly (a test checks it).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from multiaccount.store.types import ExactDecimal, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Autoincrement key: BIGINT (identity/serial) on PostgreSQL, INTEGER PRIMARY KEY (rowid) on SQLite.
serial = Annotated[int, mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                      autoincrement=True)]

# Status vocabularies (plain strings in the database so both dialects and backups stay simple).
TRANSFER_STATUSES = ("pending", "confirmed", "executed", "cancelled")
OUTBOX_STATUSES = ("pending", "sending", "sent", "failed", "dead")
ORDER_PENDING = "pending"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), Decimal: ExactDecimal(28, 8)}


# ------------------------------------------------------------------ accounts as brokers report them
class AccountSnapshot(Base):
    """One AccountInfo reading: the balance/equity/margin time series behind drawdown and reports."""

    __tablename__ = "account_snapshots"
    __table_args__ = (Index("ix_account_snapshots_account_at", "account_id", "at"),)

    id: Mapped[serial]
    account_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(index=True)
    balance: Mapped[float] = mapped_column(Float)
    equity: Mapped[float] = mapped_column(Float)
    margin: Mapped[float] = mapped_column(Float)
    margin_free: Mapped[float] = mapped_column(Float)
    margin_level: Mapped[float | None] = mapped_column(Float)
    currency: Mapped[str] = mapped_column(String(8), default="USD")
    leverage: Mapped[int] = mapped_column(Integer, default=100)
    margin_so_call: Mapped[float] = mapped_column(Float, default=50.0)
    margin_so_so: Mapped[float] = mapped_column(Float, default=30.0)
    connected: Mapped[bool] = mapped_column(Boolean, default=True)


class PositionRow(Base):
    """A position as last reported; `is_open` flips to False when a later report no longer lists it."""

    __tablename__ = "positions"
    __table_args__ = (Index("ix_positions_open", "is_open", "account_id"),)

    account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    ticket: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(8))
    volume: Mapped[float] = mapped_column(Float)
    price_open: Mapped[float] = mapped_column(Float)
    sl: Mapped[float | None] = mapped_column(Float)
    tp: Mapped[float | None] = mapped_column(Float)
    price_current: Mapped[float] = mapped_column(Float)
    profit: Mapped[float] = mapped_column(Float)
    swap: Mapped[float] = mapped_column(Float, default=0.0)
    opened_at: Mapped[datetime]
    magic: Mapped[int] = mapped_column(BigInteger, default=0)
    comment: Mapped[str] = mapped_column(String(64), default="")
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class DealRow(Base):
    """A deal from the broker's history (MT5 TradeDeal): fills, closes, commissions, swaps."""

    __tablename__ = "deals"
    __table_args__ = (Index("ix_deals_account_at", "account_id", "at"),)

    account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    ticket: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    order_ticket: Mapped[int | None] = mapped_column(BigInteger)
    position_id: Mapped[int | None] = mapped_column(BigInteger)
    symbol: Mapped[str] = mapped_column(String(32), default="")
    side: Mapped[str] = mapped_column(String(16), default="")
    entry: Mapped[str] = mapped_column(String(8), default="")
    volume: Mapped[float] = mapped_column(Float, default=0.0)
    price: Mapped[float] = mapped_column(Float, default=0.0)
    profit: Mapped[float] = mapped_column(Float, default=0.0)
    commission: Mapped[float] = mapped_column(Float, default=0.0)
    swap: Mapped[float] = mapped_column(Float, default=0.0)
    fee: Mapped[float] = mapped_column(Float, default=0.0)
    magic: Mapped[int] = mapped_column(BigInteger, default=0)
    comment: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime]


# ------------------------------------------------------------------ orders: the idempotency ledger
class OrderRow(Base):
    """One row per client order id, ever: the unique constraint is what makes retries safe."""

    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_account_reserved", "account_id", "reserved_at"),)

    id: Mapped[serial]
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[str] = mapped_column(String(64))
    signal_id: Mapped[str | None] = mapped_column(String(64), index=True)
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(8))
    order_type: Mapped[str] = mapped_column(String(16))
    volume: Mapped[Decimal] = mapped_column(ExactDecimal(28, 8))
    price: Mapped[Decimal | None] = mapped_column(ExactDecimal(28, 8))
    sl: Mapped[Decimal | None] = mapped_column(ExactDecimal(28, 8))
    tp: Mapped[Decimal | None] = mapped_column(ExactDecimal(28, 8))
    deviation: Mapped[int] = mapped_column(Integer, default=10)
    position_ticket: Mapped[int | None] = mapped_column(BigInteger)
    reduce_only: Mapped[bool] = mapped_column(Boolean, default=False)
    factors: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=ORDER_PENDING, index=True)
    retcode: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="")
    filled_volume: Mapped[Decimal | None] = mapped_column(ExactDecimal(28, 8))
    fill_price: Mapped[Decimal | None] = mapped_column(ExactDecimal(28, 8))
    ticket: Mapped[int | None] = mapped_column(BigInteger)
    deal: Mapped[int | None] = mapped_column(BigInteger)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    reserved_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]


# ------------------------------------------------------------------ signals and routing
class SignalRow(Base):
    __tablename__ = "signals"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(8))
    order_type: Mapped[str] = mapped_column(String(16))
    entry: Mapped[float | None] = mapped_column(Float)
    stop: Mapped[float] = mapped_column(Float)
    take_profit: Mapped[float | None] = mapped_column(Float)
    take_profit_ratio: Mapped[float | None] = mapped_column(Float)
    strategy: Mapped[str] = mapped_column(String(64))
    created: Mapped[datetime]
    expires: Mapped[datetime | None]
    received_at: Mapped[datetime] = mapped_column(index=True)
    source: Mapped[str] = mapped_column(String(32), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    routes: Mapped[list[SignalRouteRow]] = relationship(back_populates="signal", lazy="selectin",
                                                        order_by="SignalRouteRow.account_id")


class SignalRouteRow(Base):
    """What happened to a signal on one account: routed, rejected (coded reason), failed over ..."""

    __tablename__ = "signal_routes"
    __table_args__ = (UniqueConstraint("signal_id", "account_id"),)

    id: Mapped[serial]
    signal_id: Mapped[str] = mapped_column(ForeignKey("signals.id", ondelete="CASCADE"))
    account_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    client_id: Mapped[str | None] = mapped_column(String(64))
    volume: Mapped[float | None] = mapped_column(Float)
    factors: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime]

    signal: Mapped[SignalRow] = relationship(back_populates="routes")


# ------------------------------------------------------------------ trading state
class TradingStateRow(Base):
    """Current state per scope; `version` is the optimistic-concurrency counter (0 = never set)."""

    __tablename__ = "trading_states"

    scope: Mapped[str] = mapped_column(String(96), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(64), default="")
    changed_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer)


class TradingStateChangeRow(Base):
    __tablename__ = "trading_state_changes"
    __table_args__ = (UniqueConstraint("scope", "version"),)

    id: Mapped[serial]
    scope: Mapped[str] = mapped_column(String(96))
    state: Mapped[str] = mapped_column(String(16))
    previous_state: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(64), default="")
    changed_at: Mapped[datetime] = mapped_column(index=True)
    version: Mapped[int] = mapped_column(Integer)


# ------------------------------------------------------------------ risk violations and incidents
class IncidentRow(Base):
    __tablename__ = "incidents"

    id: Mapped[serial]
    key: Mapped[str | None] = mapped_column(String(128), unique=True)
    title: Mapped[str] = mapped_column(String(256))
    severity: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(96), default="firm")
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    opened_at: Mapped[datetime]
    opened_by: Mapped[str] = mapped_column(String(64), default="")
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(64))
    resolution: Mapped[str] = mapped_column(Text, default="")

    entries: Mapped[list[IncidentEntryRow]] = relationship(back_populates="incident", lazy="selectin",
                                                           order_by="IncidentEntryRow.id")


class IncidentEntryRow(Base):
    """One line of an incident's timeline (detected, action taken, note, resolved)."""

    __tablename__ = "incident_entries"

    id: Mapped[serial]
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64), default="")
    kind: Mapped[str] = mapped_column(String(32), default="note")
    text: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    incident: Mapped[IncidentRow] = relationship(back_populates="entries")


class RiskViolationRow(Base):
    __tablename__ = "risk_violations"

    id: Mapped[serial]
    at: Mapped[datetime] = mapped_column(index=True)
    scope: Mapped[str] = mapped_column(String(96))
    limit_name: Mapped[str] = mapped_column(String(64))
    measured: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    severity: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"))


# ------------------------------------------------------------------ rebalancing
class RebalancingPlanRow(Base):
    """A transfer plan; `plan_key` (e.g. `rebalance:2026-12-01`) makes creation idempotent."""

    __tablename__ = "rebalancing_plans"

    id: Mapped[serial]
    plan_key: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    transfers: Mapped[list[TransferRow]] = relationship(back_populates="plan", lazy="selectin",
                                                        order_by="TransferRow.id")


class TransferRow(Base):
    __tablename__ = "transfers"

    id: Mapped[serial]
    plan_id: Mapped[int] = mapped_column(ForeignKey("rebalancing_plans.id", ondelete="CASCADE"), index=True)
    from_account: Mapped[str] = mapped_column(String(64))
    to_account: Mapped[str] = mapped_column(String(64))
    amount: Mapped[Decimal] = mapped_column(ExactDecimal(20, 2))
    currency: Mapped[str] = mapped_column(String(8), default="USD")
    live: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    confirmed_by: Mapped[str | None] = mapped_column(String(64))
    confirmed_at: Mapped[datetime | None]
    executed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(Text, default="")

    plan: Mapped[RebalancingPlanRow] = relationship(back_populates="transfers", lazy="joined", innerjoin=True)


# ------------------------------------------------------------------ performance
class DailyPerformanceRow(Base):
    __tablename__ = "performance_daily"
    __table_args__ = (UniqueConstraint("day", "scope"),)

    id: Mapped[serial]
    day: Mapped[date] = mapped_column(Date)
    scope: Mapped[str] = mapped_column(String(96))
    start_equity: Mapped[float | None] = mapped_column(Float)
    end_equity: Mapped[float | None] = mapped_column(Float)
    pnl: Mapped[float] = mapped_column(Float, default=0.0)
    return_pct: Mapped[float | None] = mapped_column(Float)
    drawdown: Mapped[float | None] = mapped_column(Float)
    trades: Mapped[int] = mapped_column(Integer, default=0)
    wins: Mapped[int] = mapped_column(Integer, default=0)
    volume: Mapped[float] = mapped_column(Float, default=0.0)
    commission: Mapped[float] = mapped_column(Float, default=0.0)
    swap: Mapped[float] = mapped_column(Float, default=0.0)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime]


class MonthlyPerformanceRow(Base):
    __tablename__ = "performance_monthly"
    __table_args__ = (UniqueConstraint("month", "scope"),)

    id: Mapped[serial]
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    scope: Mapped[str] = mapped_column(String(96))
    start_equity: Mapped[float | None] = mapped_column(Float)
    end_equity: Mapped[float | None] = mapped_column(Float)
    pnl: Mapped[float] = mapped_column(Float, default=0.0)
    return_pct: Mapped[float | None] = mapped_column(Float)
    max_drawdown: Mapped[float | None] = mapped_column(Float)
    sharpe: Mapped[float | None] = mapped_column(Float)
    sortino: Mapped[float | None] = mapped_column(Float)
    trades: Mapped[int] = mapped_column(Integer, default=0)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime]


# ------------------------------------------------------------------ alerts, reports, backups, audit
class AlertOutboxRow(Base):
    """Transactional outbox: alerts are written with the state change, then delivered at least once."""

    __tablename__ = "alert_outbox"
    __table_args__ = (Index("ix_alert_outbox_due", "status", "next_attempt_at"),
                      Index("ix_alert_outbox_dedupe", "dedupe_key", "created_at"))

    id: Mapped[serial]
    dedupe_key: Mapped[str] = mapped_column(String(256))
    severity: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    repeat_count: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    thread_ts: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str] = mapped_column(Text, default="")


class ReportRow(Base):
    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("kind", "period", "format"),)

    id: Mapped[serial]
    kind: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(32))
    format: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class BackupRow(Base):
    __tablename__ = "backups"

    id: Mapped[serial]
    name: Mapped[str] = mapped_column(String(128), unique=True)
    path: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str] = mapped_column(String(64))
    row_counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="created")
    verified_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]


class AuditRow(Base):
    """Operator actions (resume, emergency stop, transfer confirmation ...): who, what, where, when."""

    __tablename__ = "audit_log"

    id: Mapped[serial]
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(96), default="firm")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# ------------------------------------------------------------------ realtime service <-> Airflow
class HeartbeatRow(Base):
    """Latest beat per component (e.g. `risk_monitor`); `risk_watch` treats a stale one as dead."""

    __tablename__ = "heartbeats"

    component: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime]
    beats: Mapped[int] = mapped_column(BigInteger, default=0)
    info: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RiskEventRow(Base):
    """Append-only events from the realtime monitor; pollers keep a cursor on `id`."""

    __tablename__ = "risk_events"

    id: Mapped[serial]
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16), default="info")
    scope: Mapped[str] = mapped_column(String(96), default="firm")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ChecklistResultRow(Base):
    __tablename__ = "checklist_results"
    __table_args__ = (Index("ix_checklist_results_run", "checklist", "run_id"),)

    id: Mapped[serial]
    checklist: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[str] = mapped_column(String(128))
    item: Mapped[str] = mapped_column(String(256))
    ok: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime]


class KVRow(Base):
    """Small named state (start-of-day equity, peaks, cursors) as JSON."""

    __tablename__ = "kv"

    key: Mapped[str] = mapped_column(String(191), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime]


__all__ = [name for name in dir() if name.endswith("Row") or name in ("AccountSnapshot", "Base")]
