"""Risk: firm snapshot, limits, debounce, trading state, reduction plans, pre-trade checks.

Pure maths over domain values and config; never imports a broker SDK, the store, Airflow or Dash.
"""

from multiaccount.risk.debounce import Debouncer
from multiaccount.risk.engine import RiskAssessment, RiskEngine
from multiaccount.risk.market import MarketData, UnknownSymbolError
from multiaccount.risk.snapshot import RiskBaseline, RiskSnapshot, build_snapshot
from multiaccount.risk.state import TradingStateService, most_severe
from multiaccount.risk.verdict import Action, Verdict

__all__ = ["Action", "Debouncer", "MarketData", "RiskAssessment", "RiskBaseline", "RiskEngine", "RiskSnapshot",
           "TradingStateService", "UnknownSymbolError", "Verdict", "build_snapshot", "most_severe"]
