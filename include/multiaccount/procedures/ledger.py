"""The procedures' run ledger: one record per (kind, key), written once, read by every rerun.

Why: a cleared-and-rerun task must not send a second close order, record a second transfer or write
a second report. Each side effect is recorded under a deterministic key (trading day, account,
ticket, plan leg) *after* it succeeds; a rerun finds the record and returns it instead of acting
again. Brokers are also idempotent by client order id, so a crash between the broker call and the
record converges too. Records are JSON files created with O_EXCL (atomic across the separate
processes Airflow runs tasks in) under `MULTIACCOUNT_HOME/procedures/`.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from multiaccount import paths

_SAFE = re.compile(r"[^A-Za-z0-9_.@=+-]")


def _slug(text: str) -> str:
    return _SAFE.sub("_", text)


class ProcedureLedger:
    def __init__(self, root: Path | None = None):
        self.root = root or paths.sub("procedures")

    def _path(self, kind: str, key: str) -> Path:
        return self.root / _slug(kind) / f"{_slug(key)}.json"

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        p = self._path(kind, key)
        return json.loads(p.read_text(encoding="utf-8")) if p.exists() else None

    def record_once(self, kind: str, key: str, payload: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Store `payload` unless a record exists; returns (the stored record, created now?)."""
        p = self._path(kind, key)
        p.parent.mkdir(parents=True, exist_ok=True)
        body = json.dumps({"kind": kind, "key": key, **payload}, sort_keys=True, default=str)
        try:
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return self.get(kind, key) or {}, False
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(body)
        return json.loads(body), True

    def upsert(self, kind: str, key: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Replace the record (for derived summaries that a rerun recomputes identically)."""
        p = self._path(kind, key)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps({"kind": kind, "key": key, **payload}, sort_keys=True, default=str),
                       encoding="utf-8")
        os.replace(tmp, p)
        return self.get(kind, key) or {}

    def records(self, kind: str, prefix: str = "") -> list[dict[str, Any]]:
        d = self.root / _slug(kind)
        if not d.is_dir():
            return []
        return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(d.glob(f"{_slug(prefix)}*.json"))]
