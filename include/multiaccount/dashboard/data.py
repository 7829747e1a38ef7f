"""The dashboard's only door to data: read inputs from a source, build a plain view model.

Why one module: the page must be testable without a browser, and the store and risk packages evolve
under it. Everything the page shows is computed here from `DashboardInputs` (pure data) by
`build_view(firm, inputs)`; figures and layout only format the result. A `DashboardSource` produces
the inputs: `StoreSource` reads the store live, `InMemorySource` is the fake tests and demos fill.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import numpy as np
import pandas as pd

from multiaccount.config import FirmConfig
from multiaccount.domain import Scope, ScopeKind, Severity, TradingState
from multiaccount.domain.ports import StateRecord

log = logging.getLogger(__name__)

STATE_RANK = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}
LEVEL_OK, LEVEL_WARN, LEVEL_BREACH = "ok", "warn", "breach"
HEARTBEAT_STALE_AFTER = timedelta(seconds=10)


# ---------------------------------------------------------------- inputs (what a source delivers)
@dataclass(frozen=True)
class AccountReading:
    """One account at one instant, with the reference points its limits are measured from."""

    account_id: str
    balance: float
    equity: float
    margin: float
    day_start_equity: float  # equity at the last 17:00 New York rollover (daily-loss basis)
    peak_equity: float  # highest equity since the last manual resume (drawdown basis)
    open_risk: float  # loss in account currency if every stop is hit
    connected: bool = True
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    open_positions: int = 0


@dataclass(frozen=True)
class EventRow:
    """A violation or incident as the page lists it."""

    at: datetime
    severity: Severity
    scope: str
    kind: str
    message: str
    measured: float | None = None
    limit: float | None = None
    action: str = ""


@dataclass(frozen=True)
class TransferRow:
    """A rebalancing instruction waiting for a human to confirm it."""

    id: str
    created: datetime
    from_account: str
    to_account: str
    amount: str  # Decimal as text: money is shown exactly as recorded
    currency: str
    status: str
    note: str = ""


@dataclass(frozen=True)
class DashboardInputs:
    now: datetime
    readings: list[AccountReading]
    states: list[StateRecord] = field(default_factory=list)
    equity_history: pd.DataFrame | None = None  # columns: at, account_id, equity
    exposures: pd.DataFrame | None = None  # columns: account_id, symbol, risk (money at stops)
    violations: list[EventRow] = field(default_factory=list)
    incidents: list[EventRow] = field(default_factory=list)
    pending_transfers: list[TransferRow] = field(default_factory=list)
    heartbeats: dict[str, datetime | None] = field(default_factory=dict)
    correlation: pd.DataFrame | None = None  # account x account, when the risk monitor provides it


class DashboardSource(Protocol):
    def load(self, now: datetime) -> DashboardInputs:
        """Everything the page shows, read once per refresh."""
        ...


# ---------------------------------------------------------------- view model (what the page shows)
@dataclass(frozen=True)
class Gauge:
    """One limit at one scope: how much of it is used."""

    scope: str
    limit: str  # machine name, e.g. max_group_risk
    label: str  # what an operator reads, e.g. "Group risk"
    used: float
    threshold: float
    warn_fraction: float

    @property
    def ratio(self) -> float:
        return self.used / self.threshold if self.threshold > 0 else 0.0

    @property
    def level(self) -> str:
        """Graded exactly as the risk engine grades (`Limit.grade`), so page and engine agree."""
        if self.used >= self.threshold:
            return LEVEL_BREACH
        return LEVEL_WARN if self.used >= self.warn_fraction * self.threshold else LEVEL_OK


@dataclass(frozen=True)
class ScopeStatus:
    scope: str
    own_state: TradingState
    effective_state: TradingState
    reason: str
    actor: str
    since: datetime | None
    inherited_from: str | None  # the higher scope whose state applies, when not its own


@dataclass(frozen=True)
class FirmSummary:
    balance: float
    equity: float
    daily_pnl: float  # money
    daily_pnl_pct: float
    total_risk: float
    drawdown: float
    accounts_trading: int
    accounts_total: int
    connected: int
    state: ScopeStatus
    currency: str


@dataclass(frozen=True)
class GroupSummary:
    name: str
    account_count: int
    balance: float
    equity: float
    daily_pnl: float
    daily_pnl_pct: float
    risk: float
    target_allocation: float
    actual_allocation: float
    best_performer: str | None
    worst_performer: str | None
    live_trading: bool
    state: ScopeStatus


@dataclass(frozen=True)
class DashboardView:
    generated_at: datetime
    firm: FirmSummary
    groups: list[GroupSummary]
    accounts: pd.DataFrame  # one row per account, columns ACCOUNT_COLUMNS
    gauges: list[Gauge]
    scopes: list[ScopeStatus]
    equity_curve: pd.DataFrame  # at, group, equity (plus group "firm")
    correlation: pd.DataFrame
    exposure: pd.DataFrame  # account_id, group, symbol, risk
    violations: pd.DataFrame
    incidents: pd.DataFrame
    transfers: pd.DataFrame
    heartbeats: dict[str, float | None]  # component -> age in seconds (None = never seen)

    @property
    def connections(self) -> tuple[int, int]:
        return self.firm.connected, self.firm.accounts_total

    def table_records(self) -> list[dict[str, Any]]:
        """Rows for the accounts DataTable (fractions; the table formats them as percentages)."""
        return self.accounts[list(ACCOUNT_COLUMNS)].to_dict("records")

    def gauges_for(self, kind: ScopeKind) -> list[Gauge]:
        prefix = "firm" if kind is ScopeKind.FIRM else f"{kind.value}:"
        return [g for g in self.gauges if g.scope == prefix or (prefix.endswith(":") and g.scope.startswith(prefix))]

    def monitor_stale(self, component: str = "risk_monitor") -> bool:
        age = self.heartbeats.get(component)
        return age is None or age > HEARTBEAT_STALE_AFTER.total_seconds()


ACCOUNT_COLUMNS = ("account_id", "group", "balance", "equity", "daily_pnl", "drawdown", "risk_percent",
                   "margin_use", "status", "reason", "connection")


# ---------------------------------------------------------------- building the view
def build_view(firm: FirmConfig, inputs: DashboardInputs) -> DashboardView:
    """Turn raw inputs into everything the page shows; pure, so it is tested without a browser."""
    scopes = effective_states(firm, inputs.states)
    by_scope = {s.scope: s for s in scopes}
    accounts = account_frame(firm, inputs.readings, by_scope)
    groups = [group_summary(firm, g, accounts, by_scope[str(Scope.group(g))]) for g in firm.groups]
    equity_curve = equity_curve_frame(firm, inputs.equity_history, inputs.readings, inputs.now)
    correlation = (inputs.correlation if inputs.correlation is not None
                   else return_correlation(inputs.equity_history, firm.master.risk_controls.correlation_window))
    firm_summary = summarize_firm(firm, accounts, equity_curve, by_scope["firm"])
    return DashboardView(
        generated_at=inputs.now,
        firm=firm_summary,
        groups=groups,
        accounts=accounts,
        gauges=limit_gauges(firm, accounts, groups, firm_summary, correlation),
        scopes=scopes,
        equity_curve=equity_curve,
        correlation=correlation,
        exposure=exposure_frame(firm, inputs.exposures, accounts),
        violations=events_frame(inputs.violations),
        incidents=events_frame(inputs.incidents),
        transfers=transfers_frame(inputs.pending_transfers),
        heartbeats={k: (None if v is None else max(0.0, (inputs.now - v).total_seconds()))
                    for k, v in inputs.heartbeats.items()},
    )


def effective_states(firm: FirmConfig, records: list[StateRecord]) -> list[ScopeStatus]:
    """Each scope's own state and the one that applies: the most restrictive of firm, group, account."""
    own = {r.scope: r for r in records}

    def status(scope: Scope, parents: list[Scope]) -> ScopeStatus:
        rec = own.get(scope)
        chain = [(s, own[s]) for s in [*parents, scope] if s in own]
        winner_scope, winner = max(chain, key=lambda sr: STATE_RANK[sr[1].state], default=(scope, None))
        own_state = rec.state if rec else TradingState.ACTIVE
        if winner is None or STATE_RANK[winner.state] <= STATE_RANK[own_state]:
            winner_scope, winner = scope, rec
        return ScopeStatus(
            scope=str(scope), own_state=own_state,
            effective_state=winner.state if winner else TradingState.ACTIVE,
            reason=winner.reason if winner else "", actor=winner.actor if winner else "",
            since=winner.changed_at if winner and winner.version else None,
            inherited_from=None if winner_scope == scope else str(winner_scope))

    result = [status(Scope.firm(), [])]
    for g, definition in firm.groups.items():
        result.append(status(Scope.group(g), [Scope.firm()]))
        result.extend(status(Scope.account(a), [Scope.firm(), Scope.group(g)]) for a in definition.accounts)
    return result


def account_frame(firm: FirmConfig, readings: list[AccountReading],
                  by_scope: dict[str, ScopeStatus]) -> pd.DataFrame:
    """One row per configured account; an account without a reading shows as disconnected, not hidden."""
    latest = {r.account_id: r for r in readings}
    rows = []
    for account_id in firm.accounts:
        r = latest.get(account_id)
        st = by_scope[str(Scope.account(account_id))]
        reason = st.reason if st.inherited_from is None else f"{st.inherited_from}: {st.reason}"
        if r is None:
            rows.append({"account_id": account_id, "group": firm.group_of(account_id), "balance": np.nan,
                         "equity": np.nan, "daily_pnl": np.nan, "drawdown": np.nan, "risk_percent": np.nan,
                         "margin_use": np.nan, "open_risk": 0.0, "day_start_equity": np.nan, "margin": 0.0,
                         "status": st.effective_state.value, "reason": reason, "connection": "no data",
                         "connected": False})
            continue
        rows.append({
            "account_id": account_id, "group": firm.group_of(account_id),
            "balance": r.balance, "equity": r.equity,
            "daily_pnl": _ratio(r.equity - r.day_start_equity, r.day_start_equity),
            "drawdown": max(0.0, 1.0 - _ratio(r.equity, max(r.peak_equity, r.equity))),
            "risk_percent": _ratio(r.open_risk, r.equity),
            "margin_use": _ratio(r.margin, r.equity),
            "open_risk": r.open_risk, "day_start_equity": r.day_start_equity, "margin": r.margin,
            "status": st.effective_state.value, "reason": reason,
            "connection": "online" if r.connected else "offline", "connected": r.connected,
        })
    return pd.DataFrame(rows)


def group_summary(firm: FirmConfig, group: str, accounts: pd.DataFrame, state: ScopeStatus) -> GroupSummary:
    """The seed's get_group_performance, plus risk and allocation drift."""
    rows = accounts[accounts["group"] == group]
    total_equity = float(accounts["equity"].sum())
    equity, start = float(rows["equity"].sum()), float(rows["day_start_equity"].sum())
    ranked = rows.dropna(subset=["daily_pnl"]).sort_values("daily_pnl")
    limits = firm.group_limits(group)
    return GroupSummary(
        name=group, account_count=len(rows), balance=float(rows["balance"].sum()), equity=equity,
        daily_pnl=equity - start, daily_pnl_pct=_ratio(equity - start, start),
        risk=_ratio(float(rows["open_risk"].sum()), equity),
        target_allocation=limits.allocation_percentage, actual_allocation=_ratio(equity, total_equity),
        best_performer=ranked["account_id"].iloc[-1] if len(ranked) else None,
        worst_performer=ranked["account_id"].iloc[0] if len(ranked) else None,
        live_trading=limits.live_trading, state=state)


def summarize_firm(firm: FirmConfig, accounts: pd.DataFrame, equity_curve: pd.DataFrame,
                   state: ScopeStatus) -> FirmSummary:
    equity, start = float(accounts["equity"].sum()), float(accounts["day_start_equity"].sum())
    firm_curve = equity_curve.loc[equity_curve["group"] == "firm", "equity"]
    peak = max(float(firm_curve.max()) if len(firm_curve) else equity, equity)
    trading = int((accounts["status"] != TradingState.HALTED.value).sum())
    return FirmSummary(
        balance=float(accounts["balance"].sum()), equity=equity, daily_pnl=equity - start,
        daily_pnl_pct=_ratio(equity - start, start), total_risk=_ratio(float(accounts["open_risk"].sum()), equity),
        drawdown=max(0.0, 1.0 - _ratio(equity, peak)), accounts_trading=trading, accounts_total=len(accounts),
        connected=int(accounts["connected"].sum()), state=state, currency=firm.master.master_account.currency)


def limit_gauges(firm: FirmConfig, accounts: pd.DataFrame, groups: list[GroupSummary], summary: FirmSummary,
                 correlation: pd.DataFrame) -> list[Gauge]:
    """Every configured limit as used/limit at firm, group and account level (DESIGN.md section 3)."""
    master, rc = firm.master.master_account, firm.master.risk_controls
    warn = rc.warn_fraction
    gauges = [
        Gauge("firm", "max_total_risk", "Total risk", summary.total_risk, master.max_total_risk, warn),
        Gauge("firm", "max_daily_loss", "Daily loss", max(0.0, -summary.daily_pnl_pct), master.max_daily_loss, warn),
        Gauge("firm", "emergency_stop_threshold", "Drawdown", summary.drawdown, master.emergency_stop_threshold, warn),
    ]
    if rc.correlation_monitoring:
        gauges.append(Gauge("firm", "firm_correlation_threshold", "Correlation", _max_offdiag(correlation),
                            rc.firm_correlation_threshold, warn))
    for g in groups:
        scope, limits = str(Scope.group(g.name)), firm.group_limits(g.name)
        gauges.append(Gauge(scope, "max_group_risk", "Group risk", g.risk, limits.max_group_risk, warn))
        gauges.append(Gauge(scope, "max_daily_loss", "Daily loss", max(0.0, -g.daily_pnl_pct),
                            master.max_daily_loss, warn))
        if limits.max_correlation is not None and rc.correlation_monitoring:
            members = [a for a in firm.accounts_in(g.name) if a in correlation.index]
            gauges.append(Gauge(scope, "max_correlation", "Correlation",
                                _max_offdiag(correlation.loc[members, members]) if members else 0.0,
                                limits.max_correlation, warn))
    for row in accounts.itertuples():
        scope = str(Scope.account(row.account_id))
        gauges.append(Gauge(scope, "max_drawdown_per_account", "Drawdown", _nz(row.drawdown),
                            rc.max_drawdown_per_account, warn))
        gauges.append(Gauge(scope, "max_daily_loss", "Daily loss", max(0.0, -_nz(row.daily_pnl)),
                            master.max_daily_loss, warn))
        gauges.append(Gauge(scope, "margin_call_threshold", "Margin use", _nz(row.margin_use),
                            rc.margin_call_threshold, warn))
    return gauges


def equity_curve_frame(firm: FirmConfig, history: pd.DataFrame | None, readings: list[AccountReading],
                       now: datetime) -> pd.DataFrame:
    """Equity over time per group and for the firm; the latest readings close the curve at `now`."""
    frames = [] if history is None or history.empty else [history[["at", "account_id", "equity"]]]
    frames.append(pd.DataFrame([{"at": now, "account_id": r.account_id, "equity": r.equity} for r in readings],
                               columns=["at", "account_id", "equity"]))
    data = pd.concat(frames, ignore_index=True)
    if data.empty:
        return pd.DataFrame(columns=["at", "group", "equity"])
    data["at"] = pd.to_datetime(data["at"], utc=True)
    wide = (data.pivot_table(index="at", columns="account_id", values="equity", aggfunc="last")
            .sort_index().ffill())
    out = [pd.DataFrame({"at": wide.index, "group": "firm", "equity": wide.sum(axis=1, min_count=1).to_numpy()})]
    for g in firm.groups:
        cols = [a for a in firm.accounts_in(g) if a in wide.columns]
        if cols:
            out.append(pd.DataFrame({"at": wide.index, "group": g,
                                     "equity": wide[cols].sum(axis=1, min_count=1).to_numpy()}))
    return pd.concat(out, ignore_index=True)


def return_correlation(history: pd.DataFrame | None, window: int) -> pd.DataFrame:
    """Correlation of accounts' P&L streams over the last `window` returns (DESIGN.md 3, correlation (a))."""
    if history is None or history.empty:
        return pd.DataFrame()
    wide = (history.assign(at=pd.to_datetime(history["at"], utc=True))
            .pivot_table(index="at", columns="account_id", values="equity", aggfunc="last").sort_index().ffill())
    returns = wide.pct_change(fill_method=None).iloc[1:].tail(window)
    if len(returns) < 3:
        return pd.DataFrame()
    return returns.corr(min_periods=3)


def exposure_frame(firm: FirmConfig, exposures: pd.DataFrame | None, accounts: pd.DataFrame) -> pd.DataFrame:
    """Open risk by account and symbol; without a symbol breakdown, one 'all' bar per account."""
    if exposures is not None and not exposures.empty:
        out = exposures[["account_id", "symbol", "risk"]].copy()
    else:
        out = accounts.loc[accounts["open_risk"] > 0, ["account_id", "open_risk"]].rename(
            columns={"open_risk": "risk"}).assign(symbol="all")
    out["group"] = out["account_id"].map(firm.account_group)
    return out[["account_id", "group", "symbol", "risk"]].reset_index(drop=True)


def events_frame(events: list[EventRow]) -> pd.DataFrame:
    cols = ["at", "severity", "scope", "kind", "message", "measured", "limit", "action"]
    rows = [{"at": e.at, "severity": e.severity.value, "scope": e.scope, "kind": e.kind, "message": e.message,
             "measured": e.measured, "limit": e.limit, "action": e.action}
            for e in sorted(events, key=lambda e: e.at, reverse=True)]
    return pd.DataFrame(rows, columns=cols)


def transfers_frame(transfers: list[TransferRow]) -> pd.DataFrame:
    cols = ["id", "created", "from_account", "to_account", "amount", "currency", "status", "note"]
    return pd.DataFrame([{c: getattr(t, c) for c in cols} for t in sorted(transfers, key=lambda t: t.created)],
                        columns=cols)


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den and np.isfinite(den) else 0.0


def _nz(value: float) -> float:
    return 0.0 if value is None or not np.isfinite(value) else float(value)


def _max_offdiag(matrix: pd.DataFrame) -> float:
    if matrix is None or matrix.shape[0] < 2:
        return 0.0
    values = matrix.to_numpy(dtype=float, copy=True)
    np.fill_diagonal(values, np.nan)
    finite = values[np.isfinite(values)]
    return float(finite.max()) if finite.size else 0.0


# ---------------------------------------------------------------- sources
class InMemorySource:
    """A source filled by hand: tests, the demo without a store, and screenshots."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.readings: dict[str, AccountReading] = {}
        self.history: list[dict[str, Any]] = []
        self.exposures: list[dict[str, Any]] = []
        self.violations: list[EventRow] = []
        self.incidents: list[EventRow] = []
        self.transfers: list[TransferRow] = []
        self.heartbeats: dict[str, datetime | None] = {}
        self.states = None  # a TradingStateRepository; set by whoever wires the source

    def put(self, reading: AccountReading) -> None:
        with self._lock:
            self.readings[reading.account_id] = reading
            self.history.append({"at": reading.at, "account_id": reading.account_id, "equity": reading.equity})

    def load(self, now: datetime) -> DashboardInputs:
        with self._lock:
            return DashboardInputs(
                now=now, readings=list(self.readings.values()),
                states=self.states.all() if self.states is not None else [],
                equity_history=pd.DataFrame(self.history, columns=["at", "account_id", "equity"]),
                exposures=pd.DataFrame(self.exposures, columns=["account_id", "symbol", "risk"]),
                violations=list(self.violations), incidents=list(self.incidents),
                pending_transfers=list(self.transfers), heartbeats=dict(self.heartbeats))


class StoreSource:
    """Reads the store live and measures risk with the risk package's own snapshot maths.

    Per refresh: latest account snapshot per account, open positions, trading states, violations
    of the last day, open and recent incidents, pending transfers, heartbeats, and an equity history
    (resampled to `resample`) from which the start-of-day equity (17:00 New York) and peaks come
    when no persisted baseline is found in kv under `baseline_key`.
    """

    def __init__(self, store: Any, firm: FirmConfig, *, history: timedelta = timedelta(hours=12),
                 resample: str = "1min", baseline_key: str = "risk.baseline", event_window: timedelta =
                 timedelta(days=1)):
        self.store, self.firm = store, firm
        self.history, self.resample, self.baseline_key, self.event_window = history, resample, baseline_key, \
            event_window

    def load(self, now: datetime) -> DashboardInputs:
        from multiaccount.risk.calendar import trading_day_start

        latest = self.store.snapshots.latest_states()
        day_start = trading_day_start(now)
        series = self.store.snapshots.series(since=min(day_start, now - self.history))
        wide = _wide_equity(series, self.resample)
        snap = self._risk_snapshot(latest, wide, day_start, now)
        readings = [AccountReading(
            account_id=a, balance=float(snap.balance[i]), equity=float(snap.equity[i]), margin=float(snap.margin[i]),
            day_start_equity=float(snap.account_day_start[i]), peak_equity=float(snap.account_peak[i]),
            open_risk=float(snap.account_open_risk[i]), connected=bool(snap.connected[i]),
            at=latest[a].at, open_positions=int(snap.position_count[i]))
            for i, a in enumerate(snap.account_ids) if a in latest]
        exposures = pd.DataFrame({"account_id": [snap.account_ids[k] for k in snap.pos_account],
                                  "symbol": list(snap.pos_symbol), "risk": snap.pos_risk})
        exposures = exposures.groupby(["account_id", "symbol"], as_index=False)["risk"].sum()
        history = (wide.stack().rename("equity").reset_index().rename(columns={"level_1": "account_id"})
                   if not wide.empty else None)
        since = now - self.event_window
        return DashboardInputs(
            now=now, readings=readings, states=self.store.trading_states.all(), equity_history=history,
            exposures=exposures, violations=[_violation_row(v) for v in self.store.violations.list(since=since)],
            incidents=self._incidents(since), pending_transfers=self._pending_transfers(),
            heartbeats={h.component: h.at for h in self.store.heartbeat.all()},
            correlation=snap.account_corr)

    def _risk_snapshot(self, latest: dict, wide: pd.DataFrame, day_start: datetime, now: datetime) -> Any:
        from multiaccount.risk.market import MarketData
        from multiaccount.risk.snapshot import RiskBaseline, build_snapshot

        baseline = self._stored_baseline() or _baseline_from_history(self.firm, wide, day_start)
        return build_snapshot(self.firm, latest.values(), self.store.positions.open(),
                              MarketData.from_config(self.firm.symbols), baseline=RiskBaseline(**baseline),
                              equity_history=wide if len(wide) >= 3 else None, now=now)

    def _stored_baseline(self) -> dict[str, Any] | None:
        try:
            value = self.store.kv.get(self.baseline_key)
        except Exception as exc:  # noqa: BLE001 - a missing/odd baseline must not blank the page
            log.debug("no stored risk baseline: %s", exc)
            return None
        if isinstance(value, dict) and "peaks" in value and "day_start" in value:
            return {"peaks": value["peaks"], "day_start": value["day_start"]}
        return None

    def _pending_transfers(self) -> list[TransferRow]:
        return [_transfer_row(t, plan.created_at) for plan in self.store.transfers.plans(limit=100)
                for t in plan.transfers if t.status == "pending"]

    def _incidents(self, since: datetime) -> list[EventRow]:
        rows = {i.id: i for i in self.store.incidents.list(status="open")}
        rows.update({i.id: i for i in self.store.incidents.list(since=since)})
        return [EventRow(at=i.opened_at, severity=Severity(i.severity), scope=i.scope, kind=i.status,
                         message=i.title + (f" - {i.resolution}" if i.resolution else ""),
                         action=f"closed by {i.closed_by}" if i.closed_by else "")
                for i in rows.values()]


def _wide_equity(series: pd.DataFrame, resample: str) -> pd.DataFrame:
    """Equity per account on a regular grid (last reading per bucket, carried forward)."""
    if series is None or series.empty:
        return pd.DataFrame()
    wide = series.pivot_table(index="at", columns="account_id", values="equity", aggfunc="last").sort_index()
    return wide.resample(resample).last().ffill().dropna(how="all")


def _baseline_from_history(firm: FirmConfig, wide: pd.DataFrame, day_start: datetime) -> dict[str, Any]:
    """Start-of-day equity = first reading at/after the rollover; peaks = highest equity seen
    (per account, per group and for the firm, each on its own summed curve)."""
    if wide.empty:
        return {"peaks": {}, "day_start": {}}
    today = wide[wide.index >= pd.Timestamp(day_start)]
    first = (today if not today.empty else wide).bfill().iloc[0]
    peaks = {a: float(v) for a, v in wide.max().items() if np.isfinite(v)}
    for g in firm.groups:
        cols = [a for a in firm.accounts_in(g) if a in wide.columns]
        if cols:
            peaks[f"group:{g}"] = float(wide[cols].sum(axis=1).max())
    peaks["firm"] = float(wide.sum(axis=1).max())
    return {"peaks": peaks, "day_start": {a: float(v) for a, v in first.items() if np.isfinite(v)}}


def _violation_row(v: Any) -> EventRow:
    return EventRow(at=v.at, severity=Severity(v.severity), scope=v.scope, kind=v.limit_name,
                    message=v.reason or f"{v.limit_name} measured {v.measured}", measured=v.measured,
                    limit=v.threshold, action=v.action)


def _transfer_row(t: Any, created: datetime) -> TransferRow:
    return TransferRow(id=str(t.id), created=created, from_account=t.from_account, to_account=t.to_account,
                       amount=str(t.amount), currency=t.currency, status=t.status,
                       note=("live, needs confirmation. " if t.live else "") + (t.note or ""))
