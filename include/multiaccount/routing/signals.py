"""Turn a raw signal payload into a `TradingSignal` or a coded rejection naming field and value."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from multiaccount.domain.model import TradingSignal


def parse_signal(payload: dict[str, Any]) -> tuple[TradingSignal | None, str | None]:
    """(signal, None) when valid; (None, 'INVALID_SIGNAL: field=stop, value=nan, ...') otherwise."""
    try:
        return TradingSignal.model_validate(payload), None
    except ValidationError as exc:
        parts = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "signal"
            value = err.get("input")
            value = "<object>" if isinstance(value, dict) else value
            parts.append(f"field={field}, value={value!r}, problem={err['msg'].removeprefix('Value error, ')}")
        return None, "INVALID_SIGNAL: " + "; ".join(parts)
