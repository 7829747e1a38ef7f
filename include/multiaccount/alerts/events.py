"""Builders for each alert kind, so every producer (risk monitor, procedures, DAGs, rebalancing)
fills the same fields the Slack message shows: what, where, measured vs limit, action, link.

They return plain `DomainEvent`s; publish them to any `EventSink` (usually the `AlertService`).
`data["fields"]` holds extra (label, value) pairs shown in the message; `data["unit"]` says how
measured/limit are formatted (`fraction` -> percent, `money`, `seconds`, `count`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from multiaccount.domain import Scope, Severity, TradingState
from multiaccount.domain.ports import DomainEvent


def _now(at: datetime | None) -> datetime:
    return (at or datetime.now(UTC)).astimezone(UTC)


def risk_violation_event(scope: Scope, limit_name: str, measured: float, limit: float, *, severity: Severity,
                         action: str, at: datetime | None = None, detail: str = "", unit: str = "fraction",
                         title: str | None = None, url: str | None = None) -> DomainEvent:
    """A risk limit measured against its threshold (warning at the warn fraction, critical on breach)."""
    data: dict[str, Any] = {"limit_name": limit_name, "unit": unit}
    if url:
        data["url"] = url
    verb = "breached" if severity is Severity.CRITICAL else "near limit"
    return DomainEvent(kind="risk_violation", severity=severity, scope=scope,
                       title=title or f"{limit_name.replace('_', ' ').capitalize()} {verb}", detail=detail, measured=measured,
                       limit=limit, action=action, at=_now(at), data=data)


def emergency_stop_event(reason: str, *, measured: float | None = None, limit: float | None = None,
                         actor: str = "risk_monitor", action: str = "all trading HALTED, positions flattened",
                         at: datetime | None = None) -> DomainEvent:
    return DomainEvent(kind="emergency_stop", severity=Severity.CRITICAL, scope=Scope.firm(),
                       title="EMERGENCY STOP: all trading halted", detail=reason, measured=measured, limit=limit,
                       action=action, at=_now(at),
                       data={"limit_name": "emergency_stop", "unit": "fraction", "fields": [["Triggered by", actor]]})


def state_change_event(scope: Scope, old: TradingState, new: TradingState, *, reason: str, actor: str,
                       at: datetime | None = None) -> DomainEvent:
    """HALTED is critical, REDUCING a warning, back to ACTIVE information."""
    severity = {TradingState.HALTED: Severity.CRITICAL, TradingState.REDUCING: Severity.WARNING}.get(new, Severity.INFO)
    return DomainEvent(kind="state_change", severity=severity, scope=scope, title=f"{scope}: {old.value} → {new.value}",
                       detail=reason, action=f"state set to {new.value} by {actor}", at=_now(at),
                       data={"limit_name": f"state-{new.value}", "fields": [["Changed by", actor]]})


def connection_failure_event(account_id: str, *, error: str, attempts: int, server: str = "",
                             terminal: str = "", action: str = "reconnecting with backoff",
                             at: datetime | None = None, severity: Severity = Severity.CRITICAL) -> DomainEvent:
    fields = [["Attempts", str(attempts)]]
    if server:
        fields.append(["Server", server])
    if terminal:
        fields.append(["Terminal", terminal])
    return DomainEvent(kind="connection_failure", severity=severity, scope=Scope.account(account_id),
                       title=f"MT5 connection lost: {account_id}", detail=error, action=action, at=_now(at),
                       data={"limit_name": "connection", "fields": fields})


def dag_failure_event(dag_id: str, task_id: str, *, run_id: str = "", try_number: int | None = None,
                      error: str = "", log_url: str | None = None, at: datetime | None = None) -> DomainEvent:
    fields = [["DAG / task", f"{dag_id} / {task_id}"]]
    if run_id:
        fields.append(["Run", run_id])
    if try_number is not None:
        fields.append(["Try", str(try_number)])
    data: dict[str, Any] = {"limit_name": f"{dag_id}.{task_id}", "fields": fields}
    if log_url:
        data["links"] = [["Task log", log_url]]
    return DomainEvent(kind="dag_failure", severity=Severity.WARNING, scope=Scope.firm(),
                       title=f"Airflow task failed: {dag_id}.{task_id}", detail=error[:1500],
                       action="Airflow retries per the DAG's default_args; check the task log", at=_now(at), data=data)


def stale_heartbeat_event(component: str, *, age_seconds: float, max_age_seconds: float, last_beat: datetime | None,
                          action: str, at: datetime | None = None) -> DomainEvent:
    last = last_beat.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if last_beat else "never"
    return DomainEvent(kind="stale_heartbeat", severity=Severity.CRITICAL, scope=Scope.firm(),
                       title=f"{component} heartbeat stale", measured=age_seconds, limit=max_age_seconds,
                       action=action, at=_now(at),
                       data={"limit_name": f"heartbeat-{component}", "unit": "seconds",
                             "fields": [["Last heartbeat", last]]})


def rebalance_confirmation_event(instruction_id: str, from_account: str, to_account: str, amount: Decimal, *,
                                 currency: str = "USD", reason: str = "", confirm_hint: str = "",
                                 at: datetime | None = None, url: str | None = None) -> DomainEvent:
    """A live transfer the system may not execute itself: a person must do it and confirm it."""
    fields = [["Transfer", f"{from_account} → {to_account}"], ["Amount", f"{Decimal(amount):,.2f} {currency}"],
              ["Instruction", instruction_id]]
    if confirm_hint:
        fields.append(["Confirm with", f"`{confirm_hint}`"])
    data: dict[str, Any] = {"limit_name": f"transfer-{instruction_id}", "fields": fields}
    if url:
        data["url"], data["url_label"] = url, "Open rebalancing plan"
    return DomainEvent(kind="rebalance_confirmation", severity=Severity.WARNING, scope=Scope.account(from_account),
                       title=f"Transfer awaiting confirmation: {Decimal(amount):,.2f} {currency}", detail=reason,
                       action="waiting for a human to execute and confirm", at=_now(at), data=data)


def daily_summary_event(day: str, *, equity: float, pnl: float, pnl_fraction: float, trades: int,
                        violations: int, connected: int, accounts: int, currency: str = "USD",
                        groups: Mapping[str, float] | None = None, notes: Sequence[str] = (),
                        report_url: str | None = None, at: datetime | None = None) -> DomainEvent:
    fields = [["Equity", f"{equity:,.2f} {currency}"], ["P&L", f"{pnl:+,.2f} {currency} ({pnl_fraction * 100:+.2f} %)"],
              ["Trades", str(trades)], ["Risk violations", str(violations)],
              ["Connections", f"{connected}/{accounts}"]]
    if groups:
        fields.append(["Groups P&L", "\n".join(f"{g}: {v * 100:+.2f} %" for g, v in groups.items())])
    summary = (f"P&L {pnl:+,.2f} {currency} ({pnl_fraction * 100:+.2f} %), {trades} trades, "
               f"{violations} violations, {connected}/{accounts} connected")
    data: dict[str, Any] = {"limit_name": f"daily-summary-{day}", "fields": fields, "summary": summary}
    if report_url:
        data["url"], data["url_label"] = report_url, "Open daily report"
    return DomainEvent(kind="daily_summary", severity=Severity.INFO, scope=Scope.firm(), title=f"Daily summary {day}",
                       detail="\n".join(f"• {n}" for n in notes), action="", at=_now(at), data=data)
