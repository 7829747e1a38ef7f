"""Injected broker faults for rehearsals and tests (the operator's "what if a terminal drops").

`MULTIACCOUNT_FAULT_CONNECT_ONCE=EU_HF_002,SW_001`: the first connect of each listed account fails
with `BrokerUnavailable`, later ones succeed. "Once" is remembered in
`MULTIACCOUNT_HOME/faults/` so it holds across the separate processes Airflow runs tasks in; that
is what lets a test fail a task, clear it, rerun it and see it succeed.
"""

from __future__ import annotations

import os
from typing import Any

from multiaccount import paths

ENV_CONNECT_ONCE = "MULTIACCOUNT_FAULT_CONNECT_ONCE"


class InjectedConnectFailure(ConnectionError):
    """A rehearsed terminal connection failure (retryable)."""


def _unavailable(msg: str) -> Exception:
    try:
        from multiaccount.brokers.port import BrokerUnavailable

        return BrokerUnavailable(msg)
    except ImportError:
        return InjectedConnectFailure(msg)


class FaultInjectingFleet:
    def __init__(self, inner: Any, connect_once: set[str]):
        self._inner = inner
        self._connect_once = connect_once

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def connect(self, account_id: str) -> None:
        if account_id in self._connect_once:
            marker = paths.sub("faults") / f"connect-once-{account_id}"
            try:
                fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
            except FileExistsError:
                pass
            else:
                os.close(fd)
                raise _unavailable(f"{account_id}: injected connection failure ({ENV_CONNECT_ONCE})")
        self._inner.connect(account_id)


def with_injected_faults(fleet: Any) -> Any:
    accounts = {a.strip() for a in os.environ.get(ENV_CONNECT_ONCE, "").split(",") if a.strip()}
    return FaultInjectingFleet(fleet, accounts) if accounts else fleet
