"""Generate docs/configuration.md from the pydantic models, so the reference never drifts from the code."""

from __future__ import annotations

from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from multiaccount.config import loader
from multiaccount.config.models import (
    AccountConfig,
    AlertsConfig,
    GroupFile,
    MasterConfig,
    NewsCalendar,
    RiskMatrix,
    SessionsConfig,
    SymbolsConfig,
)

FILES: list[tuple[str, type[BaseModel], str]] = [
    (loader.MASTER_FILE, MasterConfig, "Firm-wide limits, group allocations and caps, risk controls, terminal pool."),
    (f"{loader.GROUPS_DIR}/<group>_group.json", GroupFile, "Members of one group, its backup account and policies."),
    (f"{loader.INDIVIDUAL_DIR}/<ID>_config.json", AccountConfig,
     "One trading account: credentials reference, specialization, sessions, sizing and risk settings."),
    (loader.RISK_MATRIX_FILE, RiskMatrix, "Cross-account rules: symbol correlation caps, currency caps, failover."),
    (loader.SESSIONS_FILE, SessionsConfig, "Sessions/killzones with their own time zones, the FX week, holidays."),
    (loader.SYMBOLS_FILE, SymbolsConfig, "Tradable symbols: contract specs, spreads, volatility, swaps."),
    (loader.NEWS_FILE, NewsCalendar, "High-impact news calendar used by the news filter."),
    (loader.ALERTS_FILE, AlertsConfig, "Slack routing by severity, dedupe and escalation."),
]


def _type_name(annotation: Any) -> str:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _type_name(get_args(annotation)[0])
    if origin is None:
        return getattr(annotation, "__name__", str(annotation)).replace("NoneType", "null")
    args = ", ".join(_type_name(a) for a in get_args(annotation))
    name = getattr(origin, "__name__", str(origin)).replace("UnionType", "one of").replace("Union", "one of")
    return f"{name}[{args}]"


def _constraints(field: Any) -> str:
    parts = []
    for m in field.metadata:
        for attr, sym in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<="), ("min_length", "min len"),
                          ("pattern", "pattern")):
            v = getattr(m, attr, None)
            if v is not None:
                parts.append(f"{sym} {v}")
    return ", ".join(parts)


def _rows(model: type[BaseModel], prefix: str = "") -> list[tuple[str, str, str, str, str]]:
    rows = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        ann = field.annotation
        nested = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
        if get_origin(ann) is dict and get_args(ann) and isinstance(get_args(ann)[1], type) and issubclass(
                get_args(ann)[1], BaseModel):
            rows.append((path, "object", "required" if field.is_required() else "", "", field.description or ""))
            rows.extend(_rows(get_args(ann)[1], f"{path}.<key>."))
            continue
        if get_origin(ann) is list and get_args(ann) and isinstance(get_args(ann)[0], type) and issubclass(
                get_args(ann)[0], BaseModel):
            rows.append((path, "list", "required" if field.is_required() else "", "", field.description or ""))
            rows.extend(_rows(get_args(ann)[0], f"{path}[]."))
            continue
        if nested is not None:
            rows.extend(_rows(nested, f"{path}."))
            continue
        default = "required" if field.is_required() else (
            "" if field.default is PydanticUndefined else f"`{field.default!r}`")
        rows.append((path, _type_name(ann).replace("|", "or"), default, _constraints(field), field.description or ""))
    return rows


def render() -> str:
    out = ["# Configuration reference",
           "",
           "Generated from the pydantic models in `include/multiaccount/config/models.py` by",
           "`multiaccount config reference`; a test fails when this file is out of date.",
           "Precedence: files in `config/`, then environment (`MULTIACCOUNT_*`), then CLI flags.",
           "Secrets are `${ENV_VAR}` references resolved from the environment only.",
           ""]
    for path, model, purpose in FILES:
        out += [f"## `config/{path}`", "", purpose, "", "| field | type | default | constraints | meaning |",
                "|---|---|---|---|---|"]
        for row in _rows(model):
            out.append("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |")
        out.append("")
    return "\n".join(out)
