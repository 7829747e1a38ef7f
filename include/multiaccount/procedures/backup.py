"""Backup (end of day, then the `backup` DAG) over `multiaccount.store.backup`.

An archive holds every store table (dialect-neutral, SHA-256 per table, manifest) plus the brokers'
own account states and positions read at backup time, so a restore can be checked against what the
terminals said. One archive per trading day: its name is kept in the store's kv under the day, and
a rerun reuses it when it still verifies. Retention is the store's (`prune_backups`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from multiaccount.bootstrap import App
from multiaccount.procedures._shared import account_state_dict, app_of, read_fleet, run_of, step_get, step_put
from multiaccount.procedures.common import RunInfo

PROCEDURE = "backup"
DEFAULT_RETENTION = 30


def daily_backup(run: dict[str, Any] | RunInfo, app: App | None = None) -> dict[str, Any]:
    """The trading day's archive: reused when it exists and verifies, else written now."""
    from multiaccount.store.backup import BackupError, create_backup, verify_backup

    app, r = app_of(app), run_of(run)
    known = step_get(app, PROCEDURE, r.key, "archive")
    if known is not None and Path(known["path"]).exists():
        try:
            verify_backup(known["path"], app.store)
            return {**known, "reused": True}
        except BackupError:
            pass  # corrupt or changed: write a new one
    if r.dry_run:
        return {"trading_day": r.key, "dry_run": True}
    read = read_fleet(app, list(app.firm.accounts))
    states = {a: account_state_dict(st, read.positions[a]) for a, st in read.states.items()}
    states.update({a: {"error": err} for a, err in read.failed.items()})
    info = create_backup(app.store, states, at=app.clock.now(), prune=False)
    out = {"trading_day": r.key, "name": info.name, "path": str(info.path), "sha256": info.sha256,
           "rows": info.total_rows, "accounts": info.accounts, "unreachable": sorted(read.failed)}
    return {**step_put(app, PROCEDURE, r.key, "archive", out), "reused": False}


def create_backup(run: dict[str, Any] | RunInfo, app: App | None = None) -> dict[str, Any]:
    return daily_backup(run, app=app)


def verify_backup(run: dict[str, Any] | RunInfo, app: App | None = None) -> dict[str, Any]:
    """Every checksum and row count of the day's archive, and its SHA-256 against the index; marks it verified."""
    from multiaccount.store.backup import verify_backup as verify

    app, r = app_of(app), run_of(run)
    known = step_get(app, PROCEDURE, r.key, "archive")
    if known is None:
        raise RuntimeError(f"BACKUP_MISSING: day={r.key}; run create_backup first")
    info = verify(known["path"], app.store)
    return {"trading_day": r.key, "name": info.name, "ok": True, "tables": len(info.tables),
            "rows": info.total_rows, "accounts": info.accounts}


def apply_retention(run: dict[str, Any] | RunInfo, keep: int = DEFAULT_RETENTION,
                    app: App | None = None) -> dict[str, Any]:
    """The store's retention: the newest `keep` archives (never the newest), none older than 90 days."""
    from multiaccount.store.backup import list_backups, prune_backups

    app, r = app_of(app), run_of(run)
    if r.dry_run:
        return {"kept": len(list_backups()), "removed": [], "dry_run": True}
    removed = prune_backups(keep=keep, now=app.clock.now(), store=app.store)
    return {"kept": len(list_backups()), "removed": [p.name for p in removed], "dry_run": False}


def latest_backup(app: App) -> Any | None:
    """The newest archive that is indexed in the store and not deleted (`BackupRow`), or None."""
    rows = [b for b in app.store.backups.list() if Path(b.path).exists()]
    return rows[0] if rows else None
