"""Rebalancing (seed step 4 of startup, and its own DAG) over `multiaccount.rebalancing` and the store.

Targets, drift and the transfer plan are the rebalancing package's (`account_targets`,
`plan_transfers` through `rebalancing.service.make_plan`: free margin x (1 + transfer_margin_buffer)
stays, no leg below `min_transfer`, live and paper money never mix, Decimal cents throughout).

Idempotence: the day's plan is frozen in the store on first computation (`store.transfers`, plan
key `rebalance:<trading day>`); a rerun executes that stored plan, never a recomputed one, and the
executor skips executed transfers and completes a half-done one from the broker's deal history.
Transfers on simulated terminals execute directly; live transfers stay pending until a human
confirms them (the DAG's `ApprovalOperator`, or `multiaccount rebalance confirm`).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from multiaccount.bootstrap import App
from multiaccount.domain import Scope, Severity
from multiaccount.procedures._shared import app_of, publish, read_fleet, run_of
from multiaccount.procedures.common import RunInfo
from multiaccount.rebalancing import Transfer, TransferPlan

ACTOR = "procedure:rebalance"
_DAY = timedelta(days=1)


def plan_key(r: RunInfo) -> str:
    """One plan per trading day; a forced replan gets its own key so the frozen one stays on record."""
    return f"rebalance:{r.key}" + (":forced" if r.force_rebalance else "")


def compute_targets(run: dict[str, Any] | RunInfo, app: App | None = None) -> dict[str, Any]:
    """Read every account into the store, then target capital and drift per account from it."""
    from multiaccount.rebalancing import account_targets, drifts
    from multiaccount.rebalancing.service import capital_from_store

    app, r = app_of(app), run_of(run)
    read = read_fleet(app, list(app.firm.accounts))
    capital = capital_from_store(app.store, app.firm)
    targets = account_targets(app.firm, capital)
    drift = drifts(capital, targets)
    rows = {a: {"group": capital[a].group, "target": str(targets[a]), "equity": str(capital[a].equity),
                "drift": round(drift[a], 6)} for a in targets if a in r.accounts}
    return {"trading_day": r.key, "total_equity": str(sum((c.equity for c in capital.values()), Decimal(0))),
            "accounts": rows, "max_drift": max((v["drift"] for v in rows.values()), default=0.0),
            "unreachable": sorted(read.failed)}


def plan_transfers(run: dict[str, Any] | RunInfo, targets: dict[str, Any] | None = None,
                   app: App | None = None) -> dict[str, Any]:
    """The day's plan: the stored one if it exists, else computed from the store's capital and stored."""
    from multiaccount.rebalancing.ledger import StoreTransferLedger
    from multiaccount.rebalancing.service import make_plan

    app, r = app_of(app), run_of(run)
    frozen = load_plan(app, plan_key(r))
    if frozen is not None:
        return plan_dict(frozen, r, stored=True)
    plan = make_plan(app.store, app.firm, plan_key(r), app.clock.now(), force=r.force_rebalance)
    if r.dry_run:
        return plan_dict(plan, r, stored=False)
    StoreTransferLedger(app.store).record_plan(plan, ACTOR)
    return plan_dict(load_plan(app, plan.plan_key) or plan, r, stored=True)


def execute_simulated_transfers(run: dict[str, Any] | RunInfo, plan: dict[str, Any] | None = None,
                                app: App | None = None) -> dict[str, Any]:
    """Run the stored plan: simulated transfers now, live ones become pending instructions."""
    from multiaccount.rebalancing.service import execute

    app, r = app_of(app), run_of(run)
    stored = load_plan(app, plan_key(r))
    if stored is None or r.dry_run:
        return {"executed": [], "dry_run": r.dry_run, "planned": bool(stored)}
    involved = sorted({a for t in stored.transfers for a in (t.from_account, t.to_account)})
    brokers = {a: app.fleet.broker(a) for a in involved}
    for a in involved:
        app.fleet.connect(a)
    report = execute(app.store, app.firm, stored, brokers, app.clock.now(), ACTOR)
    failed = [t for t in report.transfers if t.status == "failed"]
    read_fleet(app, involved, deals_since=stored.created_at - _DAY)  # balances and flows after the moves
    done = [t.transfer_id for t in report.transfers if t.status == "executed"]
    if done:
        publish(app, "rebalance", Severity.INFO, Scope.firm(), f"Rebalanced {len(done)} transfer(s) for {r.key}",
                limit_name=f"rebalance-{r.key}")
    if failed:
        raise RuntimeError("TRANSFER_FAILED: " + "; ".join(f"{t.transfer_id}: {t.detail}" for t in failed))
    return {"plan_key": stored.plan_key, "results": {t.transfer_id: t.status for t in report.transfers},
            "executed": done}


def live_transfer_ids(app: App, r: RunInfo) -> list[str]:
    """Transfers of the day's plan that wait for a human (pending live instructions)."""
    from multiaccount.rebalancing.service import pending

    key = plan_key(r)
    return [t.transfer_id for t in pending(app.store) if t.plan_key == key and t.live]


def has_live_transfers(run: dict[str, Any] | RunInfo, app: App | None = None) -> bool:
    app, r = app_of(app), run_of(run)
    return not r.dry_run and bool(live_transfer_ids(app, r))


def record_live_transfers(run: dict[str, Any] | RunInfo, approved_by: str = "", app: App | None = None
                          ) -> dict[str, Any]:
    """After human approval: each pending live transfer of the day is confirmed (who, when) in the store."""
    from multiaccount.rebalancing.service import confirm

    app, r = app_of(app), run_of(run)
    confirmed = [confirm(app.store, tid, approved_by or ACTOR, app.clock.now()).transfer_id
                 for tid in live_transfer_ids(app, r)]
    return {"trading_day": r.key, "confirmed": confirmed, "by": approved_by}


# ------------------------------------------------------------------ the stored plan
def load_plan(app: App, key: str) -> TransferPlan | None:
    """The plan as stored (frozen) under `key`, rebuilt as a `TransferPlan` for the executor."""
    from multiaccount.rebalancing.ledger import StoreTransferLedger

    row = app.store.transfers.plan(key)
    if row is None:
        return None
    detail = row.detail or {}
    m = app.firm.master.master_account
    transfers = tuple(Transfer(t.transfer_id, t.from_account, t.to_account, t.amount, t.live)
                      for t in StoreTransferLedger(app.store).list(plan_key=key))
    return TransferPlan(plan_key=key, created_at=row.created_at,
                        targets={a: Decimal(v) for a, v in detail.get("targets", {}).items()},
                        before={a: Decimal(v) for a, v in detail.get("before", {}).items()},
                        transfers=transfers, drift={}, max_drift=float(detail.get("max_drift", 0.0)),
                        threshold=float(detail.get("threshold", m.rebalance_threshold)), needed=bool(transfers),
                        min_transfer=Decimal(str(m.min_transfer)), margin_buffer=m.transfer_margin_buffer,
                        shortfalls=tuple(detail.get("shortfalls", ())), reason=row.reason or "rebalance")


def plan_dict(plan: TransferPlan, r: RunInfo, stored: bool) -> dict[str, Any]:
    """JSON-able plan for XCom, the approval form and the CLI."""
    return {"plan_key": plan.plan_key, "trading_day": r.key, "stored": stored, "dry_run": r.dry_run,
            "max_drift": plan.max_drift, "threshold": plan.threshold, "total": str(plan.total_moved),
            "transfers": [t.as_dict() for t in plan.transfers], "shortfalls": list(plan.shortfalls)}
