"""The one table every benchmark prints (rows: benchmark, value, baseline, ratio, target, ok)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table


def _num(v: float | None, fmt: str) -> str:
    return "-" if v is None else format(v, fmt)


def print_rows(title: str, rows: list[dict], digits: int = 1) -> Console:
    """Print `rows` as a table; returns the console for a benchmark's own extra lines."""
    table = Table(title=title)
    for col in ("benchmark", "value", "baseline", "ratio", "target", "ok"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["benchmark"], _num(r["value"], f".{digits}f"), _num(r["baseline"], f".{digits}f"),
                      "-" if r["ratio"] is None else f"{r['ratio']:.2f}x", r["target"], str(r["ok"]))
    console = Console()
    console.print(table)
    return console
