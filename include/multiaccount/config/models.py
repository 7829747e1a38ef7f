"""pydantic v2 models of every configuration file.

Each model mirrors one JSON file of `config/` (the seed's layout). Models are frozen: configuration is
read once at bootstrap and never mutated. Cross-file rules (allocations sum to 1, every account in
exactly one group, known symbols and sessions) live in `validation.py`, so one run reports all
problems at once.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
PositiveFraction = Annotated[float, Field(gt=0.0, le=1.0)]
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
_DURATION = re.compile(r"^(\d+)\s*([dhw])$")
_RANGE_DAYS = re.compile(r"^(\d+)\s*-\s*(\d+)\s*days?$")


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TimeWindow(Frozen):
    """A daily window `HH:MM-HH:MM` in a named time zone; `00:00` as end means midnight."""

    start: time
    end: time | None  # None = midnight (end of day)

    @classmethod
    def parse(cls, text: str) -> TimeWindow:
        m = _HHMM.match(text.strip())
        if not m:
            raise ValueError(f"'{text}' is not a window HH:MM-HH:MM")
        h1, m1, h2, m2 = (int(x) for x in m.groups())
        start = time(h1, m1)
        end = None if (h2, m2) in ((0, 0), (24, 0)) else time(h2, m2)
        if h2 == 24 and m2 != 0:
            raise ValueError(f"'{text}': 24:MM is not a time")
        if end is not None and end <= start:
            raise ValueError(f"'{text}': end must be after start (windows do not wrap midnight)")
        return cls(start=start, end=end)

    def contains(self, t: time) -> bool:
        return self.start <= t and (self.end is None or t < self.end)

    def overlaps(self, other: TimeWindow) -> bool:
        a_end = self.end or time.max
        b_end = other.end or time.max
        return self.start < b_end and other.start < a_end


def parse_windows(values: list[str]) -> list[TimeWindow]:
    windows = [TimeWindow.parse(v) for v in values]
    ordered = sorted(windows, key=lambda w: w.start)
    for a, b in zip(ordered, ordered[1:]):
        if a.overlaps(b):
            raise ValueError(f"windows overlap: {values}")
    return windows


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone '{name}'") from exc
    return name


def parse_duration(text: str) -> timedelta:
    """`7d`, `12h`, `2w`, or the seed's `1-7 days` (the upper bound is the limit)."""
    t = text.strip().lower()
    if m := _RANGE_DAYS.match(t):
        lo, hi = int(m.group(1)), int(m.group(2))
        if lo > hi:
            raise ValueError(f"'{text}': range lower bound above upper bound")
        return timedelta(days=hi)
    if m := _DURATION.match(t):
        n, unit = int(m.group(1)), m.group(2)
        return {"d": timedelta(days=n), "h": timedelta(hours=n), "w": timedelta(weeks=n)}[unit]
    raise ValueError(f"'{text}' is not a duration (e.g. '7d', '12h', '1-7 days')")


# ---------------------------------------------------------------- master_account_config.json
class MasterAccount(Frozen):
    total_capital: Decimal = Field(gt=0, description="Firm capital the group allocations are fractions of")
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="Reporting currency")
    max_total_risk: PositiveFraction = Field(
        description="Cap on summed open risk (loss if every stop is hit) / summed equity of the firm")
    max_daily_loss: PositiveFraction = Field(
        description="(start-of-day equity - equity) / start-of-day equity; start = 17:00 New York rollover. "
                    "At the limit new trades halt until the next trading day")
    emergency_stop_threshold: PositiveFraction = Field(
        description="Firm drawdown (1 - equity / peak equity) that triggers the emergency stop on the first read")
    rebalance_frequency: Literal["daily", "weekly", "monthly", "on_demand"] = "daily"
    rebalance_threshold: PositiveFraction = Field(0.05, description="Drift (|actual-target|/target) that triggers a rebalance")
    min_transfer: Decimal = Field(Decimal("1000"), ge=0, description="Smallest transfer worth making, account currency")
    transfer_margin_buffer: float = Field(0.5, ge=0, description="Keep margin x (1+buffer) after any transfer out")
    emergency_close_all_positions: bool = Field(True, description="Emergency stop also flattens every position")


class GroupLimits(Frozen):
    """A group's entry in the master file: its capital share and risk caps."""

    allocation_percentage: PositiveFraction = Field(description="Share of firm capital targeted for the group")
    max_group_risk: PositiveFraction = Field(description="Cap on the group's summed open risk / summed equity")
    max_correlation: Fraction | None = Field(
        None, description="Cap on the rolling correlation of any two member accounts' equity returns")
    active_hours: list[str] | None = Field(
        None, description="Daily windows HH:MM-HH:MM (no overlap) when the group may open trades")
    active_hours_timezone: str = Field("Europe/London", description="IANA zone of active_hours (DST-correct)")
    position_duration: str | None = Field(
        None, description="Longest holding period, e.g. '1-7 days' (upper bound applies) or '7d'")
    live_trading: bool = Field(True, description="False: the group trades on simulated terminals only")
    purpose: str | None = None

    @field_validator("active_hours")
    @classmethod
    def _windows(cls, v: list[str] | None) -> list[str] | None:
        if v is not None:
            parse_windows(v)
        return v

    @field_validator("active_hours_timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        return check_timezone(v)

    @field_validator("position_duration")
    @classmethod
    def _duration(cls, v: str | None) -> str | None:
        if v is not None:
            parse_duration(v)
        return v

    @property
    def windows(self) -> list[TimeWindow]:
        return parse_windows(self.active_hours) if self.active_hours else []

    @property
    def max_holding(self) -> timedelta | None:
        return parse_duration(self.position_duration) if self.position_duration else None


class RiskControls(Frozen):
    max_drawdown_per_account: PositiveFraction = Field(
        description="Account drawdown (1 - equity / peak equity) at which the account is HALTED and flattened")
    correlation_monitoring: bool = True
    news_based_stops: bool = True
    margin_call_threshold: PositiveFraction = Field(
        description="Margin use (margin/equity) above which an account is REDUCING")
    margin_level_buffer: float = Field(
        1.5, ge=1.0, description="Act when margin level < broker margin_so_call x buffer")
    warn_fraction: PositiveFraction = Field(0.80, description="Warn at this fraction of every limit")
    debounce_reads: int = Field(2, ge=1, le=60, description="Consecutive breaching reads before a hard action")
    firm_correlation_threshold: PositiveFraction = 0.80
    fallback_stop_atr_multiple: float = Field(2.0, gt=0, description="Stop distance assumed for positions without SL")
    correlation_window: int = Field(20, ge=5, description="Rolling window (observations) for return correlation")


class TerminalPoolConfig(Frozen):
    size: int = Field(10, ge=1, le=50)
    reconnect_attempts: int = Field(5, ge=1)
    reconnect_backoff_seconds: float = Field(0.5, gt=0)


class MasterConfig(Frozen):
    master_account: MasterAccount
    account_groups: dict[str, GroupLimits]
    risk_controls: RiskControls
    terminal_pool: TerminalPoolConfig = TerminalPoolConfig()


# ---------------------------------------------------------------- account_groups/*.json
class GroupDefinition(Frozen):
    name: str
    description: str = ""
    accounts: list[str] = Field(min_length=1)
    backup_account: str | None = None
    intraday: bool = Field(False, description="Close every position before the 17:00 New York rollover")
    weekend_exposure: Literal["hold", "flat", "reduce"] = "hold"


class GroupFile(Frozen):
    group: GroupDefinition


# ---------------------------------------------------------------- individual_accounts/*.json
class AccountInfo(Frozen):
    account_id: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,30}$")
    mt5_login: int = Field(gt=0)
    mt5_password: str = Field(description="A ${ENV_VAR} reference; never the secret itself")
    mt5_server: str
    broker: str
    account_type: str = ""
    base_currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    initial_balance: Decimal = Field(gt=0)
    live_trading: bool = True
    standby: bool = Field(False, description="Backup account: trades only on failover")
    terminal_path: str | None = None

    @field_validator("mt5_password")
    @classmethod
    def _must_be_reference(cls, v: str) -> str:
        if not re.fullmatch(r"\$\{[A-Z_][A-Z0-9_]*\}", v):
            raise ValueError("must be an environment reference like ${MT5_PASSWORD_<ID>}, never a literal password")
        return v

    @property
    def password_env(self) -> str:
        return self.mt5_password[2:-1]


class TradingConfig(Frozen):
    specialization: list[str] = Field(min_length=1, description="Symbols traded, or 'crosses' (pairs without USD)")
    max_position_size: float = Field(gt=0, description="Largest order in lots")
    max_concurrent_trades: int = Field(ge=1, description="Open positions at once")
    trading_sessions: list[str] = Field(min_length=1, description="Session names from sessions.json")
    risk_per_trade: PositiveFraction = Field(description="Equity fraction lost if a trade's stop is hit")
    max_daily_trades: int = Field(ge=1, description="New trades per trading day (17:00 New York boundary)")
    max_holding_period: str | None = Field(None, description="Close positions older than this, e.g. '7d', '31d'")

    @field_validator("max_holding_period")
    @classmethod
    def _duration(cls, v: str | None) -> str | None:
        if v is not None:
            parse_duration(v)
        return v

    @property
    def max_holding(self) -> timedelta | None:
        return parse_duration(self.max_holding_period) if self.max_holding_period else None


class AccountRiskManagement(Frozen):
    stop_loss_type: Literal["fixed", "dynamic"] = "fixed"
    take_profit_ratio: float = Field(2.0, gt=0)
    trailing_stop: bool = False
    max_slippage: int = Field(2, ge=0, description="Max deviation in points for market orders")
    news_filter: bool = True


class AccountConfig(Frozen):
    account_info: AccountInfo
    trading_config: TradingConfig
    strategy_allocation: dict[str, Fraction] = Field(min_length=1)
    risk_management: AccountRiskManagement

    @property
    def account_id(self) -> str:
        return self.account_info.account_id

    @model_validator(mode="after")
    def _weights(self) -> AccountConfig:
        total = sum(self.strategy_allocation.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"strategy_allocation sums to {total:.4f}, expected 1.0")
        return self


# ---------------------------------------------------------------- risk_matrix.json
class SymbolCorrelationCap(Frozen):
    name: str
    symbols: list[str] = Field(min_length=2)
    max_combined_risk: PositiveFraction


class FailoverPair(Frozen):
    primary: str
    backup: str


class RiskMatrix(Frozen):
    symbol_correlation_caps: list[SymbolCorrelationCap] = []
    currency_exposure_caps: dict[str, PositiveFraction] = {}
    failover_pairs: list[FailoverPair] = []
    new_trade_max_correlation: PositiveFraction = 0.85


# ---------------------------------------------------------------- sessions.json
class SessionDefinition(Frozen):
    timezone: str
    windows: list[str] = Field(min_length=1)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        return check_timezone(v)

    @field_validator("windows")
    @classmethod
    def _windows(cls, v: list[str]) -> list[str]:
        parse_windows(v)
        return v

    @property
    def parsed(self) -> list[TimeWindow]:
        return parse_windows(self.windows)


class FxWeek(Frozen):
    timezone: str = "America/New_York"
    open: str = "Sunday 17:00"
    close: str = "Friday 17:00"


class SessionsConfig(Frozen):
    sessions: dict[str, SessionDefinition]
    fx_week: FxWeek = FxWeek()
    holidays: list[str] = []


# ---------------------------------------------------------------- symbols.json
class SymbolSpec(Frozen):
    base: str = Field(pattern=r"^[A-Z]{3}$")
    quote: str = Field(pattern=r"^[A-Z]{3}$")
    digits: int = Field(ge=0, le=8)
    contract_size: float = Field(gt=0)
    volume_min: float = Field(gt=0)
    volume_step: float = Field(gt=0)
    volume_max: float = Field(gt=0)
    spread_points: int = Field(ge=0)
    annual_volatility: float = Field(gt=0, lt=2)
    swap_long: float = 0.0
    swap_short: float = 0.0
    commission_per_lot: float = Field(0.0, ge=0)
    trade_stops_level: int = Field(0, ge=0)

    @property
    def point(self) -> float:
        return 10.0 ** -self.digits

    @property
    def is_cross(self) -> bool:
        """Crosses are pairs without USD (the seed's EU_HF_004 specialization)."""
        return "USD" not in (self.base, self.quote)


class SymbolsConfig(Frozen):
    leverage: int = Field(100, ge=1)
    symbols: dict[str, SymbolSpec] = Field(min_length=1)
    reference_prices: dict[str, float]


# ---------------------------------------------------------------- news_calendar.json
class NewsEvent(Frozen):
    time: datetime
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    title: str
    impact: Literal["low", "medium", "high"]

    @field_validator("time")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        if v.tzinfo is None:
            raise ValueError("news time must carry a time zone (e.g. ...Z)")
        return v


class NewsCalendar(Frozen):
    window_before_minutes: int = Field(15, ge=0)
    window_after_minutes: int = Field(15, ge=0)
    events: list[NewsEvent] = []


# ---------------------------------------------------------------- alerts.json
class SlackRouting(Frozen):
    bot_token_env: str = "SLACK_BOT_TOKEN"
    webhook_url_env: str = "SLACK_WEBHOOK_URL"
    channels: dict[Literal["critical", "warning", "info"], str] = {
        "critical": "#risk-critical", "warning": "#risk-alerts", "info": "#trading-ops"}


class AlertsConfig(Frozen):
    slack: SlackRouting = SlackRouting()
    dashboard_url: str = "http://127.0.0.1:8050"
    dedupe_window_seconds: int = Field(300, ge=0)
    escalate_after_seconds: int = Field(600, ge=0)
