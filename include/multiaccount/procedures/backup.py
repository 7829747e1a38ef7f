"""Backup (after end of day): store dump + account states with checksums, verification, retention.

Uses `multiaccount.store.backup` (create/verify/restore) when the store package provides it;
otherwise copies the SQLite store with SQLite's online backup API. Either way one backup per
trading day: a rerun finds a verified backup for the day and returns it instead of making another.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from multiaccount import paths
from multiaccount.bootstrap import App
from multiaccount.procedures._shared import app_of, run_of
from multiaccount.procedures.common import RunInfo

DEFAULT_RETENTION = 30


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _sqlite_file() -> Path | None:
    from multiaccount.store.db import db_url

    url = db_url()
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None


def _folder(day: str) -> Path:
    return paths.backups_dir() / "daily" / day


def create_backup(run: dict[str, Any] | RunInfo, app: App | None = None) -> dict[str, Any]:
    app, r = app_of(app), run_of(run)
    folder = _folder(r.key)
    manifest_path = folder / "manifest.json"
    if manifest_path.exists() and verify_files(folder)["ok"]:
        return {**json.loads(manifest_path.read_text()), "reused": True}
    tmp = folder.with_name(folder.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    db = _sqlite_file()
    if db is not None and db.exists():
        src, dst = sqlite3.connect(db), sqlite3.connect(tmp / "store.sqlite")
        with dst:
            src.backup(dst)
        src.close()
        dst.close()
    states = paths.backups_dir() / "account_states" / f"{r.key}.json"
    if states.exists():
        shutil.copy2(states, tmp / "account_states.json")
    files = {p.name: _sha256(p) for p in sorted(tmp.iterdir()) if p.is_file()}
    manifest = {"trading_day": r.key, "files": files, "created_at": app.clock.now().isoformat()}
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)  # atomic publish: a crash leaves only the .partial folder
    app.ledger.upsert("backups", r.key, {"path": str(folder), "files": files})
    return {**manifest, "path": str(folder), "reused": False}


def verify_files(folder: Path) -> dict[str, Any]:
    """Checksums match, and a store copy opens and passes SQLite's integrity check."""
    manifest_path = folder / "manifest.json"
    if not manifest_path.exists():
        return {"ok": False, "problems": ["manifest missing"]}
    manifest = json.loads(manifest_path.read_text())
    problems = [name for name, digest in manifest["files"].items()
                if not (folder / name).exists() or _sha256(folder / name) != digest]
    tables = None
    if (folder / "store.sqlite").exists() and not problems:
        con = sqlite3.connect(f"file:{folder / 'store.sqlite'}?mode=ro", uri=True)
        try:
            if con.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                problems.append("store.sqlite integrity check failed")
            tables = con.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()[0]
        finally:
            con.close()
    return {"ok": not problems, "problems": problems, "tables": tables}


def verify_backup(run: dict[str, Any] | RunInfo, app: App | None = None) -> dict[str, Any]:
    app, r = app_of(app), run_of(run)
    result = verify_files(_folder(r.key))
    if not result["ok"]:
        raise RuntimeError(f"BACKUP_INVALID: day={r.key}, problems={result['problems']}")
    return {"trading_day": r.key, **result}


def apply_retention(run: dict[str, Any] | RunInfo, keep: int = DEFAULT_RETENTION,
                    app: App | None = None) -> dict[str, Any]:
    """Keep the newest `keep` daily backups (never today's)."""
    r = run_of(run)
    root = paths.backups_dir() / "daily"
    days = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.endswith(".partial")) \
        if root.is_dir() else []
    doomed = [d for d in days[:-keep] if d != r.key] if len(days) > keep else []
    if not r.dry_run:
        for d in doomed:
            shutil.rmtree(root / d)
    return {"kept": len(days) - len(doomed), "removed": doomed, "dry_run": r.dry_run}


def latest_backup() -> Path | None:
    root = paths.backups_dir() / "daily"
    days = sorted(p for p in root.iterdir() if (p / "manifest.json").exists()) if root.is_dir() else []
    return days[-1] if days else None
