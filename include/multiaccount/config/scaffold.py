"""Write a valid firm of N accounts (load tests, benchmarks, the accelerated week).

The scaffold keeps the seed's shape: three groups at 60/30/10 % of capital, HF specialists per major
plus a crosses trader and one standby backup, swing accounts on majors, research accounts never live.
Shared files (sessions, symbols, news, alerts) are copied from the seed configuration.
"""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

from multiaccount.config.loader import (
    ALERTS_FILE,
    GROUPS_DIR,
    INDIVIDUAL_DIR,
    MASTER_FILE,
    NEWS_FILE,
    RISK_MATRIX_FILE,
    SESSIONS_FILE,
    SYMBOLS_FILE,
    default_config_dir,
)
from multiaccount.config.validation import MAX_ACCOUNTS

GROUP_SHARES = {"high_frequency": 0.6, "swing_trading": 0.3, "research": 0.1}
HF_SPECIALTIES = [["EURUSD"], ["GBPUSD"], ["USDJPY"], ["crosses"], ["AUDUSD"], ["USDCHF"], ["USDCAD"]]
MAJORS = ["EURUSD", "GBPUSD", "USDJPY", "AUDUSD", "USDCHF", "USDCAD"]


def _split(n: int) -> dict[str, int]:
    """Accounts per group: at least 2 HF (specialist + backup), 1 swing, 1 research."""
    if n < 4:
        raise ValueError("a scaffolded firm needs at least 4 accounts (2 HF, 1 swing, 1 research)")
    rd = max(1, round(n * 0.1))
    sw = max(1, round(n * 0.3))
    return {"high_frequency": n - rd - sw, "swing_trading": sw, "research": rd}


def _write(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8")


def scaffold_firm(n: int, dest: Path | str, *, total_capital: int = 1_000_000, source: Path | None = None) -> Path:
    """Write a complete, valid configuration directory for `n` accounts (4..50) into `dest`."""
    if not 4 <= n <= MAX_ACCOUNTS:
        raise ValueError(f"accounts must be between 4 and {MAX_ACCOUNTS}, got {n}")
    dest = Path(dest)
    source = source or default_config_dir()
    for shared in (SESSIONS_FILE, SYMBOLS_FILE, NEWS_FILE, ALERTS_FILE):
        (dest / shared).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / shared, dest / shared)

    master = json.loads((source / MASTER_FILE).read_text(encoding="utf-8"))
    master["master_account"]["total_capital"] = total_capital
    _write(dest / MASTER_FILE, master)

    counts = _split(n)
    members: dict[str, list[str]] = {}
    failover: list[dict[str, str]] = []
    login = 70_000_000
    for group, count in counts.items():
        share = Decimal(str(GROUP_SHARES[group])) * total_capital
        balance = (share / count).quantize(Decimal("1"))
        ids = []
        for i in range(count):
            prefix = {"high_frequency": "HF", "swing_trading": "SW", "research": "RD"}[group]
            acc = f"X{prefix}_{i + 1:03d}"
            ids.append(acc)
            login += 1
            standby = group == "high_frequency" and i == count - 1
            if group == "high_frequency":
                spec = MAJORS[:3] + ["crosses"] if standby else HF_SPECIALTIES[i % len(HF_SPECIALTIES)]
                sessions, rpt, maxpos, daily = ["london_killzone", "ny_killzone"], 0.01, 10.0, 20
            elif group == "swing_trading":
                spec, sessions, rpt, maxpos, daily = MAJORS, ["london_session", "ny_session"], 0.01, 5.0, 5
            else:
                spec, sessions, rpt, maxpos, daily = MAJORS, ["london_session", "ny_session"], 0.01, 2.0, 30
            info = {"account_id": acc, "mt5_login": login, "mt5_password": "${MT5_PASSWORD_%s}" % acc,
                    "mt5_server": "Sim-Server", "broker": "Simulated", "account_type": "ECN",
                    "base_currency": "USD", "initial_balance": int(balance)}
            if group == "research":
                info["live_trading"] = False
            if standby:
                info["standby"] = True
            trading = {"specialization": spec, "max_position_size": maxpos, "max_concurrent_trades": 5,
                       "trading_sessions": sessions, "risk_per_trade": rpt, "max_daily_trades": daily}
            if group == "swing_trading" and i % 3 == 2:
                trading["max_holding_period"] = "31d"
            _write(dest / INDIVIDUAL_DIR / f"{acc}_config.json", {
                "account_info": info, "trading_config": trading,
                "strategy_allocation": {"ict_patterns": 0.7, "smart_money": 0.25, "market_structure": 0.05},
                "risk_management": {"stop_loss_type": "dynamic" if group == "high_frequency" else "fixed",
                                    "take_profit_ratio": 2.0, "trailing_stop": group != "research",
                                    "max_slippage": 3, "news_filter": group != "research"}})
        members[group] = ids
        if group == "high_frequency":
            failover = [{"primary": a, "backup": ids[-1]} for a in ids[:-1]]

    names = {"high_frequency": "high_frequency_group.json", "swing_trading": "swing_trading_group.json",
             "research": "research_group.json"}
    for group, ids in members.items():
        _write(dest / GROUPS_DIR / names[group], {"group": {
            "name": group, "description": f"scaffolded {group} group", "accounts": ids,
            "backup_account": ids[-1] if group == "high_frequency" else None,
            "intraday": group == "high_frequency",
            "weekend_exposure": "hold" if group == "swing_trading" else "flat"}})

    matrix = json.loads((source / RISK_MATRIX_FILE).read_text(encoding="utf-8"))
    matrix["failover_pairs"] = failover
    _write(dest / RISK_MATRIX_FILE, matrix)
    return dest
