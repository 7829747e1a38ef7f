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
# Until an operator "fixes" it (creates MULTIACCOUNT_HOME/faults/fixed-<ACCOUNT>), every connect of the
# listed accounts fails: retries keep failing, so a rehearsal can clear the task after the fix.
ENV_CONNECT_UNTIL_FIXED = "MULTIACCOUNT_FAULT_CONNECT_UNTIL_FIXED"


class InjectedConnectFailure(ConnectionError):
    """A rehearsed terminal connection failure (retryable)."""


def _unavailable(msg: str) -> Exception:
    try:
        from multiaccount.brokers.port import BrokerUnavailable

        return BrokerUnavailable(msg)
    except ImportError:
        return InjectedConnectFailure(msg)


class FaultInjectingFleet:
    def __init__(self, inner: Any, connect_once: set[str], until_fixed: frozenset[str] = frozenset()):
        self._inner = inner
        self._connect_once = connect_once
        self._until_fixed = until_fixed

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def connect(self, account_id: str) -> None:
        if account_id in self._until_fixed and not (paths.sub("faults") / f"fixed-{account_id}").exists():
            raise _unavailable(f"{account_id}: injected connection failure until fixed ({ENV_CONNECT_UNTIL_FIXED})")
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


def _listed(env: str) -> set[str]:
    return {a.strip() for a in os.environ.get(env, "").split(",") if a.strip()}


def with_injected_faults(fleet: Any) -> Any:
    once, until_fixed = _listed(ENV_CONNECT_ONCE), frozenset(_listed(ENV_CONNECT_UNTIL_FIXED))
    return FaultInjectingFleet(fleet, once, until_fixed) if once or until_fixed else fleet
