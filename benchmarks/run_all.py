#!/usr/bin/env python3
"""`make bench`: run every `benchmarks/bench_*.py` and print one table of ratios against baselines.

Each benchmark module has a `main()` returning rows `{"benchmark", "value", "baseline", "ratio",
"target", "ok"}` where the baseline is measured in the same run (never a remembered number). A
benchmark that crashes is a failed row, not a crashed run. Exit status 1 when any target is missed.

    python benchmarks/run_all.py [name-filter ...]
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import sys
import time
import traceback
from contextlib import redirect_stdout
from pathlib import Path

from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # `tests.fixtures` helpers some benchmarks reuse
sys.path.insert(0, str(HERE))  # the shared `_table` helper


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"benchmarks.{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:,.4g}"
    return "" if v is None else str(v)


def run(filters: list[str]) -> int:
    console = Console()
    rows: list[dict] = []
    files = sorted(p for p in HERE.glob("bench_*.py") if not filters or any(f in p.stem for f in filters))
    for path in files:
        console.print(f"[bold]{path.stem}[/bold] ...")
        started = time.perf_counter()
        home = os.environ.get("MULTIACCOUNT_HOME")
        try:
            captured = io.StringIO()
            with redirect_stdout(captured):  # each module prints its own table; we print one table
                result = _load(path).main() or []
            for r in result:
                rows.append({"suite": path.stem.removeprefix("bench_"), **r})
        except Exception:  # a crashing benchmark is a failed row
            rows.append({"suite": path.stem.removeprefix("bench_"), "benchmark": "(crashed)",
                         "value": None, "baseline": None, "ratio": None, "target": traceback.format_exc(limit=2),
                         "ok": False})
        finally:
            if home is None:
                os.environ.pop("MULTIACCOUNT_HOME", None)
            else:
                os.environ["MULTIACCOUNT_HOME"] = home
        console.print(f"  done in {time.perf_counter() - started:.1f} s")
    table = Table(title="benchmarks: ratios against baselines measured in the same run")
    for col in ("suite", "benchmark", "value", "baseline", "ratio", "target", "ok"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r["suite"], str(r.get("benchmark")), _fmt(r.get("value")), _fmt(r.get("baseline")),
                      _fmt(r.get("ratio")), str(r.get("target", "")),
                      "[green]yes[/]" if r.get("ok") else "[red]NO[/]")
    console.print(table)
    out = Path(os.environ.get("MULTIACCOUNT_BENCH_OUT", HERE.parent / "var" / "bench.json"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=2, default=str))
    console.print(f"results written to {out}")
    return 0 if rows and all(r.get("ok") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
