"""Risk limits, one per file, registered by config name (see docs/risk.md for each definition)."""

from multiaccount.risk.limits import (  # noqa: F401  (import registers)
    account_drawdown,
    account_risk,
    currency_exposure,
    daily_loss,
    emergency_stop,
    firm_correlation,
    group_correlation,
    group_risk,
    margin_level,
    margin_use,
    symbol_block,
    total_risk,
)
from multiaccount.risk.limits.base import LIMITS, Limit, build_limits

__all__ = ["LIMITS", "Limit", "build_limits"]
