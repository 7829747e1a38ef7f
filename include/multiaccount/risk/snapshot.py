"""Risk snapshot of the whole firm: one vectorised pass over account states and positions.

Inputs are plain values (`AccountState`, `Position`, config, quotes, baselines, histories); nothing
here talks to a broker or the store. Everything is converted to the firm currency so account, group
and firm figures add up. Definitions (DESIGN section 3, docs/risk.md):

- open risk of a position = volume x contract size x distance from the current close price to the
  stop, converted to the firm currency; without a stop, distance = `fallback_stop_atr_multiple` x
  the symbol's ATR estimate (never zero). A stop already beyond the price counts zero.
- risk ratio = summed open risk / summed equity (account, group, firm).
- daily loss = (start-of-day equity - equity) / start-of-day equity (start = 17:00 New York rollover).
- drawdown = 1 - equity / peak equity (peaks are inputs; the snapshot also returns updated peaks).
- margin use = margin / equity; margin level = equity / margin x 100 (MT5 percent).
- currency risk: each position's open risk is decomposed onto its legs, +risk on the currency it is
  long, -risk on the one it is short (long EURUSD + long GBPUSD is short USD twice).
- firm correlation risk = risk-weighted mean pairwise correlation of the signed per-symbol exposure.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

import numpy as np
import pandas as pd

from multiaccount.config.loader import FirmConfig
from multiaccount.domain.model import AccountState, Position, Side
from multiaccount.risk.market import MarketData

log = logging.getLogger(__name__)

FIRM_KEY = "firm"


def group_key(group: str) -> str:
    return f"group:{group}"


@dataclass(frozen=True)
class RiskBaseline:
    """Measurement starts: peak equity and start-of-day equity per key (`<account>`, `group:<g>`,
    `firm`). Persisted by the realtime service; `rebase` after a manual resume."""

    peaks: Mapping[str, float] = field(default_factory=dict)
    day_start: Mapping[str, float] = field(default_factory=dict)
    day_started_at: datetime | None = None


@dataclass(frozen=True, eq=False)
class RiskSnapshot:
    """The firm's risk at one instant. Arrays are aligned with `account_ids` / `group_ids` /
    position order; use the accessor methods for single lookups."""

    at: datetime
    firm_currency: str
    account_ids: tuple[str, ...]
    group_ids: tuple[str, ...]
    account_group: np.ndarray  # index into group_ids per account
    equity: np.ndarray
    balance: np.ndarray
    margin: np.ndarray
    connected: np.ndarray
    reported: np.ndarray
    margin_so_call: np.ndarray
    margin_so_so: np.ndarray
    account_open_risk: np.ndarray
    account_risk: np.ndarray
    account_risk_cap: np.ndarray
    account_day_start: np.ndarray
    account_daily_loss: np.ndarray
    account_peak: np.ndarray
    account_drawdown: np.ndarray
    margin_use: np.ndarray
    margin_level: np.ndarray
    position_count: np.ndarray
    group_equity: np.ndarray
    group_open_risk: np.ndarray
    group_risk: np.ndarray
    group_day_start: np.ndarray
    group_daily_loss: np.ndarray
    group_peak: np.ndarray
    group_drawdown: np.ndarray
    firm_equity: float
    firm_open_risk: float
    firm_risk: float
    firm_day_start: float
    firm_daily_loss: float
    firm_peak: float
    firm_drawdown: float
    # positions, aligned
    pos_account: np.ndarray
    pos_symbol: tuple[str, ...]
    pos_ticket: np.ndarray
    pos_sign: np.ndarray
    pos_volume: np.ndarray
    pos_risk: np.ndarray
    pos_fallback: np.ndarray
    # exposures
    currencies: tuple[str, ...]
    currency_risk: np.ndarray  # signed, firm currency
    currency_notional: np.ndarray  # signed, firm currency
    symbols: tuple[str, ...]
    symbol_net_risk: np.ndarray  # signed by side
    symbol_gross_risk: np.ndarray
    symbol_corr: np.ndarray  # aligned with symbols
    firm_correlation_risk: float
    account_corr: pd.DataFrame | None
    group_max_corr: np.ndarray  # nan when unknown
    market: MarketData
    warnings: tuple[str, ...] = ()

    @cached_property
    def account_index(self) -> dict[str, int]:
        return {a: i for i, a in enumerate(self.account_ids)}

    @cached_property
    def group_index(self) -> dict[str, int]:
        return {g: i for i, g in enumerate(self.group_ids)}

    @cached_property
    def symbol_index(self) -> dict[str, int]:
        return {s: i for i, s in enumerate(self.symbols)}

    @cached_property
    def currency_index(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.currencies)}

    def group_of(self, account_id: str) -> str:
        return self.group_ids[int(self.account_group[self.account_index[account_id]])]

    def positions_of(self, account_id: str) -> np.ndarray:
        return np.flatnonzero(self.pos_account == self.account_index[account_id])

    def updated_baseline(self, previous: RiskBaseline) -> RiskBaseline:
        """Peaks raised to the current equity (what the monitor persists after each read)."""
        peaks = dict(previous.peaks)
        for i, a in enumerate(self.account_ids):
            peaks[a] = float(self.account_peak[i])
        for j, g in enumerate(self.group_ids):
            peaks[group_key(g)] = float(self.group_peak[j])
        peaks[FIRM_KEY] = self.firm_peak
        return RiskBaseline(peaks, dict(previous.day_start), previous.day_started_at)

    def accounts_frame(self) -> pd.DataFrame:
        """Per-account table for dashboards and reports."""
        return pd.DataFrame({
            "group": [self.group_ids[g] for g in self.account_group], "equity": self.equity,
            "open_risk": self.account_open_risk, "risk": self.account_risk, "daily_loss": self.account_daily_loss,
            "drawdown": self.account_drawdown, "margin_use": self.margin_use, "margin_level": self.margin_level,
            "positions": self.position_count}, index=pd.Index(self.account_ids, name="account_id"))


# ---------------------------------------------------------------- builders
def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num/den with den <= 0 read as the worst case (inf when num > 0, else 0)."""
    out = np.zeros_like(num, dtype=float)
    pos = den > 0
    out[pos] = num[pos] / den[pos]
    out[~pos & (num > 0)] = np.inf
    return out


@dataclass(frozen=True)
class _FirmLayout:
    """Index arrays derived from config once per FirmConfig (cached by identity)."""

    account_ids: tuple[str, ...]
    group_ids: tuple[str, ...]
    account_group: np.ndarray
    risk_cap: np.ndarray
    symbols: tuple[str, ...]
    currencies: tuple[str, ...]
    sym_base: np.ndarray
    sym_quote: np.ndarray
    contract: np.ndarray
    default_corr: np.ndarray


_LAYOUTS: dict[int, tuple[FirmConfig, _FirmLayout]] = {}


def firm_layout(firm: FirmConfig) -> _FirmLayout:
    hit = _LAYOUTS.get(id(firm))
    if hit is not None and hit[0] is firm:
        return hit[1]
    group_ids = tuple(firm.groups)
    account_ids = tuple(a for g in group_ids for a in firm.groups[g].accounts)
    gidx = {g: i for i, g in enumerate(group_ids)}
    account_group = np.array([gidx[firm.group_of(a)] for a in account_ids], dtype=np.int64)
    risk_cap = np.array([firm.accounts[a].trading_config.risk_per_trade * firm.accounts[a].trading_config
                        .max_concurrent_trades for a in account_ids])
    symbols = tuple(firm.symbols.symbols)
    currencies = tuple(sorted({c for s in firm.symbols.symbols.values() for c in (s.base, s.quote)}
                              | {firm.master.master_account.currency}))
    cidx = {c: i for i, c in enumerate(currencies)}
    specs = [firm.symbols.symbols[s] for s in symbols]
    layout = _FirmLayout(account_ids, group_ids, account_group, risk_cap, symbols, currencies,
                         np.array([cidx[s.base] for s in specs]), np.array([cidx[s.quote] for s in specs]),
                         np.array([s.contract_size for s in specs], dtype=float),
                         structural_correlation(firm))
    _LAYOUTS[id(firm)] = (firm, layout)
    return layout


def structural_correlation(firm: FirmConfig) -> np.ndarray:
    """Fallback symbol correlation when no return history is given: each pair's return is its
    base-currency factor minus its quote-currency factor, factors independent with equal variance,
    so EURUSD/GBPUSD = 0.5, EURUSD/USDJPY = -0.5. Deliberately modest; real histories override it."""
    specs = list(firm.symbols.symbols.values())
    ccys = sorted({c for s in specs for c in (s.base, s.quote)})
    ci = {c: i for i, c in enumerate(ccys)}
    load = np.zeros((len(specs), len(ccys)))
    for k, s in enumerate(specs):
        load[k, ci[s.base]] += 1.0
        load[k, ci[s.quote]] -= 1.0
    cov = load @ load.T
    d = np.sqrt(np.diag(cov))
    return cov / np.outer(d, d)


def symbol_correlation(firm: FirmConfig, symbol_returns: pd.DataFrame | None) -> np.ndarray:
    """Correlation of configured symbols: measured from `symbol_returns` (columns = symbols) where
    available, the structural fallback elsewhere."""
    layout = firm_layout(firm)
    corr = layout.default_corr.copy()
    if symbol_returns is None or symbol_returns.shape[0] < 3:
        return corr
    cols = [s for s in layout.symbols if s in symbol_returns.columns]
    measured = symbol_returns[cols].corr(min_periods=3).to_numpy()
    idx = np.array([layout.symbols.index(s) for s in cols])
    ok = np.isfinite(measured)
    sub = corr[np.ix_(idx, idx)]
    sub[ok] = measured[ok]
    corr[np.ix_(idx, idx)] = sub
    np.fill_diagonal(corr, 1.0)
    return corr


def account_return_correlation(equity_history: pd.DataFrame | None, window: int) -> pd.DataFrame | None:
    """Rolling correlation of account returns over the last `window` observations (pandas result,
    for dashboards; the snapshot itself uses `_corr_matrix`)."""
    if equity_history is None or equity_history.shape[0] < 3:
        return None
    corr = _corr_matrix(equity_history.to_numpy(dtype=float)[-(window + 1):])
    return pd.DataFrame(corr, index=equity_history.columns, columns=equity_history.columns)


def _corr_matrix(levels: np.ndarray) -> np.ndarray:
    """Pearson correlation of simple returns of each column; nan where a column does not vary."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.diff(levels, axis=0) / levels[:-1]
        r = r - np.nanmean(r, axis=0)
        r = np.nan_to_num(r)
        cov = r.T @ r
        d = np.sqrt(np.diag(cov))
        corr = cov / np.outer(d, d)
    corr[~np.isfinite(corr)] = np.nan
    return corr


def correlation_risk(net: np.ndarray, corr: np.ndarray) -> float:
    """Risk-weighted mean pairwise correlation of signed exposures, in [-1, 1]; 0 with < 2 exposures.
    Two same-direction longs in pairs correlated 0.9 score 0.9."""
    nz = np.flatnonzero(np.abs(net) > 0)
    if nz.size < 2:
        return 0.0
    r = net[nz]
    c = corr[np.ix_(nz, nz)]
    num = float(r @ c @ r - np.sum(r * r * np.diag(c)))
    a = np.abs(r)
    den = float(a.sum() ** 2 - np.sum(a * a))
    return num / den if den > 0 else 0.0


def build_snapshot(firm: FirmConfig, accounts: Iterable[AccountState], positions: Iterable[Position],
                   market: MarketData, *, baseline: RiskBaseline | None = None,
                   equity_history: pd.DataFrame | None = None, symbol_returns: pd.DataFrame | None = None,
                   symbol_corr: np.ndarray | None = None, now: datetime | None = None) -> RiskSnapshot:
    """One vectorised pass; accounts missing from `accounts` count as disconnected with zero equity."""
    layout = firm_layout(firm)
    baseline = baseline or RiskBaseline()
    firm_ccy = firm.master.master_account.currency
    rc = firm.master.risk_controls
    warnings: list[str] = []
    n_acc, n_grp = len(layout.account_ids), len(layout.group_ids)
    aidx = {a: i for i, a in enumerate(layout.account_ids)}

    equity = np.zeros(n_acc)
    balance = np.zeros(n_acc)
    margin = np.zeros(n_acc)
    connected = np.zeros(n_acc, dtype=bool)
    reported = np.zeros(n_acc, dtype=bool)
    so_call = np.full(n_acc, 50.0)
    so_so = np.full(n_acc, 30.0)
    for st in accounts:
        i = aidx.get(st.account_id)
        if i is None:
            warnings.append(f"UNKNOWN_ACCOUNT: {st.account_id} is not configured; ignored")
            continue
        if not st.connected and st.equity <= 0 and st.balance <= 0:
            continue  # the pool's placeholder for an account never reached: no data, not a 100 % loss
        fx = market.rate(st.currency, firm_ccy) if st.currency != firm_ccy else 1.0
        equity[i], balance[i], margin[i] = st.equity * fx, st.balance * fx, st.margin * fx
        connected[i], reported[i] = st.connected, True
        so_call[i], so_so[i] = st.margin_so_call, st.margin_so_so

    # --- per-symbol market arrays (configured symbols, then any unknown ones seen in positions)
    symbols = list(layout.symbols)
    sidx = {s: i for i, s in enumerate(symbols)}
    pos_list = [p for p in positions if p.account_id in aidx]
    for p in pos_list:
        if p.symbol not in sidx:
            warnings.append(f"UNKNOWN_SYMBOL: {p.account_id} holds {p.symbol}; valued at its own price, quote=USD")
            sidx[p.symbol] = len(symbols)
            symbols.append(p.symbol)
    n_sym = len(symbols)
    bid = np.empty(n_sym)
    ask = np.empty(n_sym)
    vpu = np.empty(n_sym)  # firm-currency value of 1 lot x 1.0 price move
    rng = np.empty(n_sym)
    for k, s in enumerate(symbols):
        if k < len(layout.symbols):
            bid[k], ask[k] = market.bid_ask(s)
            vpu[k] = market.value_per_price_unit(s, firm_ccy)
            rng[k] = market.daily_range(s)
        else:
            px = next(p.price_current for p in pos_list if p.symbol == s)
            bid[k] = ask[k] = px
            vpu[k] = 100_000.0
            rng[k] = px * 0.10 / math.sqrt(252)

    n_pos = len(pos_list)
    pa = np.fromiter((aidx[p.account_id] for p in pos_list), dtype=np.int64, count=n_pos)
    ps = np.fromiter((sidx[p.symbol] for p in pos_list), dtype=np.int64, count=n_pos)
    sign = np.fromiter((1.0 if p.side is Side.BUY else -1.0 for p in pos_list), dtype=float, count=n_pos)
    vol = np.fromiter((p.volume for p in pos_list), dtype=float, count=n_pos)
    sl = np.fromiter((p.sl if p.sl else np.nan for p in pos_list), dtype=float, count=n_pos)
    ticket = np.fromiter((p.ticket for p in pos_list), dtype=np.int64, count=n_pos)

    close_px = np.where(sign > 0, bid[ps], ask[ps])
    no_stop = ~np.isfinite(sl)
    dist = np.where(no_stop, rc.fallback_stop_atr_multiple * rng[ps], (close_px - sl) * sign)
    dist = np.maximum(dist, 0.0)
    pos_risk = vol * vpu[ps] * dist

    acc_risk = np.bincount(pa, weights=pos_risk, minlength=n_acc)
    pos_count = np.bincount(pa, minlength=n_acc)
    ag = layout.account_group
    grp_equity = np.bincount(ag, weights=equity, minlength=n_grp)
    grp_risk = np.bincount(ag, weights=acc_risk, minlength=n_grp)

    # --- baselines (missing -> current equity: no measurement yet, logged)
    def base(keys: Sequence[str], src: Mapping[str, float], fallback: np.ndarray, label: str) -> np.ndarray:
        out = fallback.astype(float).copy()
        for i, k in enumerate(keys):
            v = src.get(k)
            if v is not None and math.isfinite(v):
                out[i] = v
            elif src:
                warnings.append(f"NO_BASELINE: {label} for {k}; measuring from now")
        return out

    acc_start = base(layout.account_ids, baseline.day_start, equity, "start-of-day equity")
    acc_peak = np.maximum(base(layout.account_ids, baseline.peaks, equity, "peak equity"), equity)
    if not reported.all():
        # an account without a state this read is out of the measurement (not a 100 % loss)
        missing = [a for a, r in zip(layout.account_ids, reported) if not r]
        warnings.append(f"NO_STATE: {','.join(missing)} reported no account state; excluded from loss/drawdown")
        acc_start[~reported] = 0.0
        acc_peak[~reported] = 0.0
    grp_start = np.bincount(ag, weights=acc_start, minlength=n_grp)
    gkeys = [group_key(g) for g in layout.group_ids]
    grp_peak_sum = np.bincount(ag, weights=acc_peak, minlength=n_grp)
    grp_peak = np.maximum(base(gkeys, {k: baseline.peaks[k] for k in gkeys if k in baseline.peaks}, grp_peak_sum,
                               "peak equity"), grp_equity)
    grp_complete = np.bincount(ag, weights=(~reported).astype(float), minlength=n_grp) == 0
    grp_peak = np.where(grp_complete, grp_peak, np.maximum(grp_peak_sum, grp_equity))
    firm_equity = float(equity.sum())
    firm_start = float(acc_start.sum())
    firm_peak = float(baseline.peaks.get(FIRM_KEY, acc_peak.sum())) if reported.all() else float(acc_peak.sum())
    firm_peak = max(firm_peak, firm_equity)
    firm_risk_amt = float(acc_risk.sum())

    # --- currency decomposition and symbol exposure
    n_ccy = len(layout.currencies)
    known = ps < len(layout.symbols)
    kb = layout.sym_base[ps[known]]
    kq = layout.sym_quote[ps[known]]
    signed = sign[known] * pos_risk[known]
    ccy_risk = np.bincount(kb, weights=signed, minlength=n_ccy) - np.bincount(kq, weights=signed, minlength=n_ccy)
    base_notional = sign[known] * vol[known] * layout.contract[ps[known]] * \
        np.array([market.rate(layout.currencies[c], firm_ccy) for c in range(n_ccy)])[kb]
    quote_notional = -base_notional  # the quote leg is worth the base leg, opposite sign
    ccy_notional = np.bincount(kb, weights=base_notional, minlength=n_ccy) + \
        np.bincount(kq, weights=quote_notional, minlength=n_ccy)
    sym_net = np.bincount(ps, weights=sign * pos_risk, minlength=n_sym)[: len(layout.symbols)]
    sym_gross = np.bincount(ps, weights=pos_risk, minlength=n_sym)[: len(layout.symbols)]
    corr = symbol_corr if symbol_corr is not None else symbol_correlation(firm, symbol_returns)

    acc_corr = None
    grp_max_corr = np.full(n_grp, np.nan)
    if equity_history is not None and equity_history.shape[0] >= 3:
        cols = list(equity_history.columns)
        raw = _corr_matrix(equity_history.to_numpy(dtype=float)[-(rc.correlation_window + 1):])
        acc_corr = pd.DataFrame(raw, index=cols, columns=cols)
        col_group = np.array([ag[aidx[c]] if c in aidx else -1 for c in cols])
        same = (col_group[:, None] == col_group[None, :]) & (col_group[:, None] >= 0)
        np.fill_diagonal(same, False)
        masked = np.where(same & np.isfinite(raw), raw, -np.inf)
        best = masked.max(axis=1)
        for j in range(n_grp):
            vals = best[(col_group == j) & np.isfinite(best)]
            if vals.size:
                grp_max_corr[j] = vals.max()

    for w in warnings:
        log.warning("risk snapshot: %s", w)
    return RiskSnapshot(
        at=(now or datetime.now(UTC)), firm_currency=firm_ccy, account_ids=layout.account_ids,
        group_ids=layout.group_ids, account_group=ag, equity=equity, balance=balance, margin=margin,
        connected=connected, reported=reported, margin_so_call=so_call, margin_so_so=so_so, account_open_risk=acc_risk,
        account_risk=_ratio(acc_risk, equity), account_risk_cap=layout.risk_cap, account_day_start=acc_start,
        account_daily_loss=_ratio(acc_start - equity, acc_start), account_peak=acc_peak,
        account_drawdown=1.0 - _ratio(equity, acc_peak), margin_use=_ratio(margin, equity),
        margin_level=np.where(margin > 0, _ratio(equity * 100.0, margin), np.inf), position_count=pos_count,
        group_equity=grp_equity, group_open_risk=grp_risk, group_risk=_ratio(grp_risk, grp_equity),
        group_day_start=grp_start, group_daily_loss=_ratio(grp_start - grp_equity, grp_start), group_peak=grp_peak,
        group_drawdown=1.0 - _ratio(grp_equity, grp_peak), firm_equity=firm_equity, firm_open_risk=firm_risk_amt,
        firm_risk=firm_risk_amt / firm_equity if firm_equity > 0 else (math.inf if firm_risk_amt else 0.0),
        firm_day_start=firm_start,
        firm_daily_loss=(firm_start - firm_equity) / firm_start if firm_start > 0 else 0.0, firm_peak=firm_peak,
        firm_drawdown=1.0 - firm_equity / firm_peak if firm_peak > 0 else 0.0, pos_account=pa,
        pos_symbol=tuple(symbols[k] for k in ps), pos_ticket=ticket, pos_sign=sign, pos_volume=vol,
        pos_risk=pos_risk, pos_fallback=no_stop, currencies=layout.currencies, currency_risk=ccy_risk,
        currency_notional=ccy_notional, symbols=layout.symbols, symbol_net_risk=sym_net,
        symbol_gross_risk=sym_gross, symbol_corr=corr, firm_correlation_risk=correlation_risk(sym_net, corr),
        account_corr=acc_corr, group_max_corr=grp_max_corr, market=market, warnings=tuple(warnings))
