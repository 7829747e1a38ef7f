"""Rebalancing (seed step 5 of startup, and its own DAG): targets, drift, a transfer plan, execution.

Targets: each group gets `allocation_percentage` of the firm's equity, split equally among its
accounts (a standby account keeps its share to trade on failover). The plan moves money from accounts above target to accounts below,
never below what the giver needs for its open margin (margin x (1 + transfer_margin_buffer)), and
never a leg smaller than `min_transfer`. Money is Decimal throughout.

Idempotence: the plan is frozen per trading day on first computation (a rerun returns the same
plan, even after some legs moved money), and every leg's withdrawal and deposit are recorded by
leg id, so a rerun completes the missing half and never repeats a done one. Simulated accounts
execute directly; live legs become instructions that wait for approval in the Airflow UI and are
recorded only after it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from multiaccount.bootstrap import App
from multiaccount.domain import Scope, Severity
from multiaccount.procedures._shared import app_of, is_simulated, money, publish, run_of
from multiaccount.procedures.common import RunInfo


def compute_targets(run: dict[str, Any] | RunInfo, app: App | None = None) -> dict[str, Any]:
    """Target capital per group and account, actual equity, and relative drift."""
    app, r = app_of(app), run_of(run)
    equity = {a: money(app.fleet.account_state(a).equity) for a in app.firm.accounts}
    total = sum(equity.values(), Decimal(0))
    rows: dict[str, Any] = {}
    for group, definition in app.firm.groups.items():
        traders = list(definition.accounts)  # a standby account keeps its share: it trades on failover
        if not traders:
            continue
        group_target = total * Decimal(str(app.firm.group_limits(group).allocation_percentage))
        per = money(group_target / len(traders))
        for a in traders:
            drift = float(abs(equity[a] - per) / per) if per > 0 else 0.0
            rows[a] = {"group": group, "target": str(per), "equity": str(equity[a]), "drift": round(drift, 6)}
    selected = {a: v for a, v in rows.items() if a in r.accounts}
    return {"trading_day": r.key, "total_equity": str(total), "accounts": selected,
            "max_drift": max((v["drift"] for v in selected.values()), default=0.0)}


def _transferable(app: App, account_id: str, surplus: Decimal) -> Decimal:
    st = app.fleet.account_state(account_id)
    keep = money(Decimal(str(st.margin)) * Decimal(str(1 + app.firm.master.master_account.transfer_margin_buffer)))
    free = money(Decimal(str(st.equity))) - keep
    return max(Decimal(0), min(surplus, free))


def plan_transfers(run: dict[str, Any] | RunInfo, targets: dict[str, Any] | None = None,
                   app: App | None = None) -> dict[str, Any]:
    """The day's transfer plan (frozen on first computation; `force_rebalance` replans)."""
    app, r = app_of(app), run_of(run)
    existing = app.ledger.get("rebalance_plan", r.key)
    if existing is not None and not r.force_rebalance:
        return existing
    targets = targets or compute_targets(r, app=app)
    minimum = app.firm.master.master_account.min_transfer
    givers, takers = [], []
    for a, v in sorted(targets["accounts"].items()):
        diff = Decimal(v["equity"]) - Decimal(v["target"])
        if diff > 0:
            givers.append([a, _transferable(app, a, diff)])
        elif diff < 0:
            takers.append([a, -diff])
    legs = []
    for taker in takers:
        for giver in givers:
            amount = money(min(giver[1], taker[1]))
            if amount < minimum:
                continue
            legs.append({"leg_id": f"{r.key}:{len(legs) + 1}:{giver[0]}>{taker[0]}", "from": giver[0],
                         "to": taker[0], "amount": str(amount),
                         "live": not (is_simulated(app, giver[0]) and is_simulated(app, taker[0]))})
            giver[1] -= amount
            taker[1] -= amount
    plan = {"plan_id": f"rebalance:{r.key}", "trading_day": r.key, "legs": legs, "dry_run": r.dry_run,
            "max_drift": targets["max_drift"]}
    if r.dry_run:
        return plan
    return app.ledger.upsert("rebalance_plan", r.key, plan) if r.force_rebalance else \
        app.ledger.record_once("rebalance_plan", r.key, plan)[0]


def _move(app: App, leg: dict[str, Any]) -> dict[str, Any]:
    """Withdraw then deposit, each recorded by leg id so a rerun does only what is missing."""
    amount = Decimal(leg["amount"])
    for side, account, signed in (("out", leg["from"], -amount), ("in", leg["to"], amount)):
        key = f"{leg['leg_id']}:{side}"
        if app.ledger.get("transfer_ops", key) is not None:
            continue
        outcome = app.fleet.transfer(account, signed, f"rebal {leg['leg_id']}"[:31])
        if outcome.status.value not in ("filled", "placed", "duplicate"):
            raise RuntimeError(f"TRANSFER_FAILED: leg={leg['leg_id']}, side={side}, retcode={outcome.retcode}, "
                               f"reason={outcome.reason}")
        app.ledger.record_once("transfer_ops", key, {"account": account, "amount": str(signed)})
    record, _ = app.ledger.record_once("transfers", leg["leg_id"], {**leg, "status": "executed"})
    return record


def execute_simulated_transfers(run: dict[str, Any] | RunInfo, plan: dict[str, Any],
                                app: App | None = None) -> dict[str, Any]:
    app, r = app_of(app), run_of(run)
    legs = [leg for leg in plan["legs"] if not leg["live"]]
    if r.dry_run:
        return {"executed": [], "would_execute": legs, "dry_run": True}
    done = [_move(app, leg) for leg in legs]
    if done:
        publish(app, "rebalance", Severity.INFO, Scope.firm(), f"Rebalanced {len(done)} leg(s) for {r.key}",
                limit_name=f"rebalance-{r.key}")
    return {"executed": [d["leg_id"] for d in done], "total": str(sum((Decimal(d["amount"]) for d in done),
                                                                      Decimal(0)))}


def live_transfer_legs(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [leg for leg in plan["legs"] if leg["live"] and not plan.get("dry_run")]


def record_live_transfers(run: dict[str, Any] | RunInfo, plan: dict[str, Any], approved_by: str = "",
                          app: App | None = None) -> dict[str, Any]:
    """After human approval: record each live leg once, as a confirmed instruction for the back office."""
    app, r = app_of(app), run_of(run)
    recorded = []
    for leg in live_transfer_legs(plan):
        rec, _ = app.ledger.record_once("transfers", leg["leg_id"],
                                        {**leg, "status": "approved_instruction", "approved_by": approved_by})
        recorded.append(rec["leg_id"])
    return {"trading_day": r.key, "recorded": recorded}
