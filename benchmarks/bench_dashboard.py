"""Dashboard refresh cost: one view model + every figure for 50 accounts vs the seed's 10, same run.

Target: a 50-account refresh costs at most 5x the 10-account one (no worse than linear)."""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from multiaccount.config import load_firm
from multiaccount.config.scaffold import scaffold_firm
from multiaccount.dashboard import figures, layout
from multiaccount.dashboard.data import InMemorySource, build_view
from multiaccount.dashboard.sample import fill_sample

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def refresh_seconds(firm, repeats: int = 5) -> float:
    source = InMemorySource()
    fill_sample(source, firm, NOW)
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        view = build_view(firm, source.load(NOW))
        for make in (figures.portfolio_performance, figures.risk_distribution, figures.firm_gauges,
                     figures.group_gauges, figures.correlation_heatmap, figures.risk_exposure_chart):
            make(view)
        layout.render_account_limits(view)
        layout.render_groups(view)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main() -> list[dict]:
    seed = load_firm()
    with tempfile.TemporaryDirectory() as tmp:
        fifty = load_firm(scaffold_firm(50, Path(tmp) / "firm50"))
        refresh_seconds(seed, 1)  # warm imports and caches
        base = refresh_seconds(seed)
        value = refresh_seconds(fifty)
    ratio = value / base
    rows = [{"benchmark": "dashboard refresh 50 vs 10 accounts (s)", "value": round(value, 4),
             "baseline": round(base, 4), "ratio": round(ratio, 2), "target": "<= 5.0", "ok": ratio <= 5.0}]
    print(f"{'benchmark':45} {'value':>8} {'baseline':>9} {'ratio':>6} {'target':>7} ok")
    for r in rows:
        print(f"{r['benchmark']:45} {r['value']:8.4f} {r['baseline']:9.4f} {r['ratio']:6.2f} {r['target']:>7} {r['ok']}")
    return rows


if __name__ == "__main__":
    main()
