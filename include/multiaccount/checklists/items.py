"""The seed's setup, daily-operations and monthly-review checklists as executable checks.

Each item is a small function of a `ChecklistContext` returning (status, evidence). An item passes,
fails, or needs a human sign-off (what no data can answer, e.g. "Compliance review"); the evidence
is what an operator would otherwise look up by hand ("All MT5 connections active: 9/10,
EU_HF_004 down since 07:58").
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cached_property
from typing import Any

from multiaccount.config import FirmConfig
from multiaccount.domain import Scope, Severity, TradingState
from multiaccount.risk.calendar import trading_date, trading_day_start

HEARTBEAT_COMPONENT = "risk_monitor"
HEARTBEAT_STALE = timedelta(seconds=30)
CORRELATION_LIMITS = ("max_correlation", "firm_correlation_threshold")
PORTFOLIO_LIMITS = ("max_total_risk", "max_daily_loss", "emergency_stop_threshold", "max_group_risk")


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    SIGN_OFF = "needs-sign-off"


@dataclass(frozen=True)
class CheckResult:
    item: str
    status: Status
    evidence: str

    @property
    def ok(self) -> bool:
        """What the store's boolean column records: only a failure is not ok."""
        return self.status is not Status.FAIL

    @property
    def detail(self) -> str:
        return f"{self.status.value}: {self.evidence}"


@dataclass
class ChecklistContext:
    """What the checks read: config, the store, optionally a live terminal pool, and `now`."""

    firm: FirmConfig
    store: Any
    now: datetime
    pool: Any | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def day_start(self) -> datetime:
        return trading_day_start(self.now)

    @cached_property
    def completed_day(self):
        """The last trading day whose 17:00 New York close has passed: what end of day has worked on.
        At 06:30 London startup that is the previous day; after the rollover, today."""
        return trading_date(self.day_start - timedelta(seconds=1))

    @cached_property
    def completed_day_start(self) -> datetime:
        return trading_day_start(self.day_start - timedelta(seconds=1))

    @cached_property
    def month_start(self) -> datetime:
        first = trading_date(self.now).replace(day=1)
        return trading_day_start(datetime.combine(first, datetime.min.time(), tzinfo=self.now.tzinfo))

    @cached_property
    def connections(self) -> dict[str, tuple[bool, datetime | None, str]]:
        """account -> (connected, since, last error), from the pool when given, else the latest snapshots."""
        if self.pool is not None:
            return {a: (s.connected, s.since, s.last_error) for a, s in self.pool.status().items()}
        latest = self.store.snapshots.latest()
        return {a: (latest[a].connected, latest[a].at, "") if a in latest else (False, None, "never seen")
                for a in self.firm.accounts}


Check = Callable[[ChecklistContext], tuple[Status, str]]


def _fmt_time(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%d %H:%M UTC") if t else "unknown"


# ------------------------------------------------------------------------------------------ setup
def master_config_defined(ctx: ChecklistContext) -> tuple[Status, str]:
    m = ctx.firm.master.master_account
    return Status.PASS, (f"capital {m.total_capital:,} {m.currency}; total risk {m.max_total_risk:.0%}, daily loss "
                         f"{m.max_daily_loss:.0%}, emergency stop {m.emergency_stop_threshold:.0%}")


def account_configs_created(ctx: ChecklistContext) -> tuple[Status, str]:
    missing = [a for g in ctx.firm.groups.values() for a in g.accounts if a not in ctx.firm.accounts]
    if missing:
        return Status.FAIL, f"no config for {', '.join(missing)}"
    return Status.PASS, f"{len(ctx.firm.accounts)} account configs"


def groups_structured(ctx: ChecklistContext) -> tuple[Status, str]:
    parts = [f"{g} {len(d.accounts)} @ {ctx.firm.group_limits(g).allocation_percentage:.0%}"
             for g, d in ctx.firm.groups.items()]
    return Status.PASS, "; ".join(parts)


def risk_matrix_configured(ctx: ChecklistContext) -> tuple[Status, str]:
    rm = ctx.firm.risk_matrix
    if not (rm.symbol_correlation_caps or rm.currency_exposure_caps):
        return Status.FAIL, "risk_matrix.json has no correlation or currency caps"
    return Status.PASS, (f"{len(rm.symbol_correlation_caps)} symbol blocks, {len(rm.currency_exposure_caps)} "
                         f"currency caps, {len(rm.failover_pairs)} failover pairs")


def connections_tested(ctx: ChecklistContext) -> tuple[Status, str]:
    return all_connections_active(ctx)


def dashboard_working(ctx: ChecklistContext) -> tuple[Status, str]:
    try:
        from multiaccount.dashboard.data import StoreSource, build_view  # noqa: PLC0415  (optional component)
    except ImportError as exc:
        return Status.FAIL, f"dashboard not importable: {exc}"
    try:
        view = build_view(ctx.firm, StoreSource(ctx.store, ctx.firm).load(ctx.now))
    except Exception as exc:  # the check reports, it does not crash the checklist
        return Status.FAIL, f"dashboard view failed: {type(exc).__name__}: {exc}"
    rows = len(view.accounts)
    if rows != len(ctx.firm.accounts):
        return Status.FAIL, f"accounts table shows {rows}/{len(ctx.firm.accounts)} accounts"
    return Status.PASS, f"accounts table shows {rows}/{len(ctx.firm.accounts)} accounts"


def performance_aggregating(ctx: ChecklistContext) -> tuple[Status, str]:
    series = ctx.store.snapshots.series(since=ctx.now - timedelta(days=7))
    if series is None or len(series) == 0:
        return Status.FAIL, "no account snapshots in the last 7 days"
    accounts = series["account_id"].nunique() if "account_id" in series else 0
    return Status.PASS, f"{len(series)} snapshots over {accounts} accounts in the last 7 days"


def emergency_defined(ctx: ChecklistContext) -> tuple[Status, str]:
    flatten = ctx.firm.master.master_account.emergency_close_all_positions
    return Status.PASS, (f"emergency stop at {ctx.firm.master.master_account.emergency_stop_threshold:.0%} drawdown; "
                         f"close all positions: {'yes' if flatten else 'no'}; CLI `multiaccount emergency-stop`")


def backups_configured(ctx: ChecklistContext) -> tuple[Status, str]:
    backups = [b for b in ctx.store.backups.list() if b.status != "failed"]
    if not backups:
        return Status.FAIL, "no backup has been taken"
    last = max(backups, key=lambda b: b.created_at)
    return Status.PASS, f"{len(backups)} backups; latest {last.name} ({_fmt_time(last.created_at)})"


def alerts_configured(ctx: ChecklistContext) -> tuple[Status, str]:
    slack = ctx.firm.alerts.slack
    if os.environ.get(slack.bot_token_env) or os.environ.get(slack.webhook_url_env):
        return Status.PASS, f"Slack configured; channels {', '.join(slack.channels.values())}"
    return Status.SIGN_OFF, (f"no {slack.bot_token_env} / {slack.webhook_url_env}: alerts go to the log and the "
                             "store only; confirm this is intended")


# ------------------------------------------------------------------------------------------ daily
def all_connections_active(ctx: ChecklistContext) -> tuple[Status, str]:
    conns = ctx.connections
    up = [a for a, (ok, _, _) in conns.items() if ok]
    down = [f"{a} down since {_fmt_time(since)}" + (f" ({err})" if err else "")
            for a, (ok, since, err) in conns.items() if not ok]
    text = f"All MT5 connections active: {len(up)}/{len(conns)}"
    if down:
        return Status.FAIL, text + ", " + "; ".join(down)
    return Status.PASS, text


def _violations_today(ctx: ChecklistContext, severity: Severity | None = None, limits: tuple[str, ...] = ()):
    rows = ctx.store.violations.list(since=ctx.day_start, severity=severity)
    return [v for v in rows if not limits or v.limit_name in limits]


def no_critical_violations(ctx: ChecklistContext) -> tuple[Status, str]:
    rows = _violations_today(ctx, Severity.CRITICAL)
    if rows:
        shown = "; ".join(f"{v.scope} {v.limit_name} {v.measured:.2%}>{v.threshold:.2%}" for v in rows[:3]
                          if v.measured is not None and v.threshold is not None)
        return Status.FAIL, f"{len(rows)} critical violation(s) since the rollover: {shown}"
    return Status.PASS, "no critical violation since the rollover"


def portfolio_within_limits(ctx: ChecklistContext) -> tuple[Status, str]:
    rows = _violations_today(ctx, Severity.CRITICAL, PORTFOLIO_LIMITS)
    firm = ctx.store.trading_states.get(Scope.firm())
    if rows:
        return Status.FAIL, f"{len(rows)} firm/group limit breach(es) today: " + ", ".join(
            sorted({v.limit_name for v in rows}))
    if firm.state is TradingState.HALTED:
        return Status.FAIL, f"firm HALTED: {firm.reason}"
    return Status.PASS, f"no firm or group limit breached today; firm {firm.state.value}"


def correlation_acceptable(ctx: ChecklistContext) -> tuple[Status, str]:
    rows = _violations_today(ctx, None, CORRELATION_LIMITS)
    crit = [v for v in rows if v.severity == Severity.CRITICAL.value]
    if crit:
        return Status.FAIL, "correlation above cap: " + "; ".join(
            f"{v.scope} {v.measured:.2f}>{v.threshold:.2f}" for v in crit[:3])
    if rows:
        return Status.PASS, f"{len(rows)} correlation warning(s), none critical"
    return Status.PASS, "no correlation warning today"


def daily_performance_calculated(ctx: ChecklistContext) -> tuple[Status, str]:
    day = ctx.completed_day
    rows = ctx.store.performance.daily(scope=Scope.firm(), since=day)
    if not rows:
        return Status.FAIL, f"no firm performance row for {day}"
    return Status.PASS, f"firm performance recorded for {day}"


def rebalancing_done(ctx: ChecklistContext) -> tuple[Status, str]:
    pending = ctx.store.transfers.list(status="pending")
    if pending:
        return Status.SIGN_OFF, f"{len(pending)} transfer instruction(s) await confirmation"
    return Status.PASS, "no pending transfer instruction"


def accounts_within_parameters(ctx: ChecklistContext) -> tuple[Status, str]:
    halted = [r for r in ctx.store.trading_states.all() if r.state is TradingState.HALTED]
    if halted:
        return Status.SIGN_OFF, "HALTED: " + "; ".join(f"{r.scope} ({r.reason})" for r in halted[:5])
    reducing = [str(r.scope) for r in ctx.store.trading_states.all() if r.state is TradingState.REDUCING]
    return Status.PASS, "all scopes ACTIVE" if not reducing else f"REDUCING: {', '.join(reducing)}"


def emergency_stops_functioning(ctx: ChecklistContext) -> tuple[Status, str]:
    beat = ctx.store.heartbeat.last(HEARTBEAT_COMPONENT)
    if beat is None:
        return Status.FAIL, "risk monitor has never reported a heartbeat (`multiaccount serve` not running?)"
    age = ctx.now - beat.at
    if age > HEARTBEAT_STALE:
        return Status.FAIL, f"risk monitor heartbeat stale: last {_fmt_time(beat.at)} ({age.total_seconds():.0f} s)"
    return Status.PASS, f"risk monitor alive: last beat {age.total_seconds():.0f} s ago"


def reports_generated(ctx: ChecklistContext) -> tuple[Status, str]:
    period = ctx.completed_day.isoformat()
    rows = [r for r in ctx.store.reports.list(kind="daily") if r.period == period]
    if not rows:
        return Status.FAIL, f"no daily report for {period}"
    return Status.PASS, f"daily report {period}: " + ", ".join(sorted(r.format for r in rows))


def backup_completed(ctx: ChecklistContext) -> tuple[Status, str]:
    recent = [b for b in ctx.store.backups.list()
              if b.created_at >= ctx.completed_day_start and b.status != "failed"]
    if not recent:
        return Status.FAIL, f"no backup since trading day {ctx.completed_day} began"
    verified = [b for b in recent if b.verified_at is not None]
    return Status.PASS, f"{len(recent)} backup(s) since trading day {ctx.completed_day} began, {len(verified)} verified"


# ------------------------------------------------------------------------------------------ monthly
def _sign_off(text: str) -> Check:
    return lambda ctx: (Status.SIGN_OFF, text)


def account_performance_reviewed(ctx: ChecklistContext) -> tuple[Status, str]:
    rows = ctx.store.reports.list(kind="monthly")
    if not rows:
        return Status.FAIL, "no monthly review report generated"
    latest = max(rows, key=lambda r: r.created_at)
    return Status.PASS, f"monthly review {latest.period} generated ({latest.format}: {latest.path})"


def disaster_recovery_tested(ctx: ChecklistContext) -> tuple[Status, str]:
    verified = [b for b in ctx.store.backups.list() if b.verified_at is not None and b.verified_at >= ctx.month_start]
    if not verified:
        return Status.FAIL, "no backup restored and verified this month"
    return Status.PASS, f"restore verified {_fmt_time(max(b.verified_at for b in verified))}"


def cost_analysis_done(ctx: ChecklistContext) -> tuple[Status, str]:
    rows = [r for r in ctx.store.reports.list(kind="monthly") if r.format in ("csv", "xlsx")]
    if not rows:
        return Status.FAIL, "no monthly cost tables exported"
    return Status.PASS, f"cost tables exported: {', '.join(sorted({r.format for r in rows}))}"


SETUP: list[tuple[str, Check]] = [
    ("Master account configuration defined", master_config_defined),
    ("Individual account configs created", account_configs_created),
    ("Account groups properly structured", groups_structured),
    ("Risk matrix configured", risk_matrix_configured),
    ("MT5 connections tested for all accounts", connections_tested),
    ("Dashboard multi-account view working", dashboard_working),
    ("Performance aggregation functioning", performance_aggregating),
    ("Emergency procedures defined", emergency_defined),
    ("Backup procedures for all accounts", backups_configured),
    ("Monitoring alerts configured", alerts_configured),
]

DAILY: list[tuple[str, Check]] = [
    ("All MT5 connections active", all_connections_active),
    ("No critical risk violations", no_critical_violations),
    ("Portfolio balance within limits", portfolio_within_limits),
    ("Correlation levels acceptable", correlation_acceptable),
    ("Daily performance calculated", daily_performance_calculated),
    ("Rebalancing executed (if needed)", rebalancing_done),
    ("All accounts trading within parameters", accounts_within_parameters),
    ("Emergency stops functioning", emergency_stops_functioning),
    ("Performance reports generated", reports_generated),
    ("Backup completed", backup_completed),
]

MONTHLY: list[tuple[str, Check]] = [
    ("Account performance review", account_performance_reviewed),
    ("Risk parameter optimization", _sign_off("review the suggested parameter changes in the monthly review")),
    ("Strategy allocation adjustment", _sign_off("confirm strategy weights per account")),
    ("Broker relationship review", _sign_off("review costs per broker in the monthly review")),
    ("Technology stack update", _sign_off("review pinned versions in requirements.txt")),
    ("Disaster recovery test", disaster_recovery_tested),
    ("Compliance review", _sign_off("compliance officer to sign")),
    ("Cost analysis (spreads, commissions)", cost_analysis_done),
    ("Portfolio rebalancing strategy review", _sign_off("review drift and transfers of the month")),
    ("Documentation updates", _sign_off("confirm docs/ reflects this month's changes")),
]

CHECKLISTS: dict[str, list[tuple[str, Check]]] = {"setup": SETUP, "daily": DAILY, "monthly": MONTHLY}


def run_checklist(name: str, ctx: ChecklistContext) -> list[CheckResult]:
    """Run every item; an item that raises is a failure with the error as evidence, never a crash."""
    if name not in CHECKLISTS:
        raise ValueError(f"unknown checklist '{name}'; one of {', '.join(CHECKLISTS)}")
    results = []
    for item, check in CHECKLISTS[name]:
        try:
            status, evidence = check(ctx)
        except Exception as exc:  # a broken data source is a failed check with evidence
            status, evidence = Status.FAIL, f"check failed: {type(exc).__name__}: {exc}"
        results.append(CheckResult(item, status, evidence))
    return results


def record_checklist(name: str, ctx: ChecklistContext, results: list[CheckResult], run_id: str | None = None,
                     actor: str = "system") -> str:
    """Store the results under `run_id` (default: checklist + trading day, so a rerun replaces them)."""
    run_id = run_id or f"{name}:{trading_date(ctx.now).isoformat()}"
    ctx.store.checklists.record(name, run_id, results, actor=actor, at=ctx.now)
    return run_id
