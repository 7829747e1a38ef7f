"""Trading state per firm, group and account, changed in ONE place (`TradingStateService.change`).

Every change is persisted through the `TradingStateRepository` port with reason, actor and time, and
published as a `state_change` DomainEvent. Rules:
- automatic actions (`escalate`) only raise severity (ACTIVE < REDUCING < HALTED);
- HALTED is lifted only by an explicit `resume` (CLI, dashboard, Airflow param), which also calls the
  rebase hooks so drawdown/daily-loss are measured from the resume;
- the one automatic release is a *timed* halt (daily loss: `until=` the next 17:00 New York) whose
  time has passed (`release_expired`), and a REDUCING the risk engine itself set once the scope is
  clean again (`recover`); both are audited with actor `system:*`.
- effective state of an account = the most severe of firm, its group and itself.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime

from multiaccount.domain.clock import Clock
from multiaccount.domain.model import Scope, ScopeKind, Severity, TradingState
from multiaccount.domain.ports import DomainEvent, EventSink, StaleStateError, StateRecord, TradingStateRepository

log = logging.getLogger(__name__)

RANK = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}
ENGINE_ACTOR = "system:risk_engine"
ROLLOVER_ACTOR = "system:rollover"
_UNTIL = re.compile(r"\buntil=([^\s']+)")  # not the quote closing a quoted earlier reason

RebaseHook = Callable[[Scope, datetime], None]


def most_severe(*states: TradingState) -> TradingState:
    return max(states, key=RANK.__getitem__)


def timed_until(record: StateRecord) -> datetime | None:
    """The end of a timed halt, parsed from its reason (`... until=2026-12-01T22:00:00+00:00`)."""
    m = _UNTIL.search(record.reason)
    return datetime.fromisoformat(m.group(1)) if m else None


def _raises(cur: StateRecord, state: TradingState, reason: str) -> bool:
    """Does an automatic change make things stricter? A higher state does; so does an untimed (or
    later-ending) HALTED replacing a timed one, so a drawdown halt never expires with a daily-loss halt."""
    if RANK[state] != RANK[cur.state]:
        return RANK[state] > RANK[cur.state]
    if state is not TradingState.HALTED:
        return False
    old_until = timed_until(cur)
    if old_until is None:
        return False
    m = _UNTIL.search(reason)
    return m is None or datetime.fromisoformat(m.group(1)) > old_until


class TradingStateService:
    def __init__(self, repo: TradingStateRepository, events: EventSink, clock: Clock,
                 group_of: Callable[[str], str] | None = None):
        self.repo = repo
        self.events = events
        self.clock = clock
        self.group_of = group_of
        self._rebase_hooks: list[RebaseHook] = []

    # ---------------------------------------------------------------- reads
    def state(self, scope: Scope) -> TradingState:
        return self.repo.get(scope).state

    def effective(self, account_id: str) -> TradingState:
        """Most severe of firm, the account's group and the account."""
        scopes = [Scope.firm(), Scope.account(account_id)]
        if self.group_of is not None:
            scopes.append(Scope.group(self.group_of(account_id)))
        return most_severe(*(self.state(s) for s in scopes))

    def states(self) -> dict[Scope, TradingState]:
        return {r.scope: r.state for r in self.repo.all()}

    def on_resume(self, hook: RebaseHook) -> None:
        """Register a hook called after an explicit resume (rebase peak / start-of-day)."""
        self._rebase_hooks.append(hook)

    # ---------------------------------------------------------------- the one writer
    def change(self, scope: Scope, state: TradingState, reason: str, actor: str, *,
               explicit: bool = False) -> StateRecord | None:
        """Set `scope` to `state`. Non-explicit changes may only raise severity; returns the new record,
        or None when nothing changed. Retries once on a concurrent change (optimistic version)."""
        for attempt in (1, 2):
            cur = self.repo.get(scope)
            if not explicit and not _raises(cur, state, reason):
                return None
            if explicit and cur.state is state:
                return None
            try:
                rec = self.repo.set(scope, state, reason, actor, expected_version=cur.version, at=self.clock.now())
            except StaleStateError:
                if attempt == 2:
                    raise
                continue
            self._publish(cur, rec)
            return rec
        return None

    def _publish(self, before: StateRecord, rec: StateRecord) -> None:
        severity = {TradingState.HALTED: Severity.CRITICAL, TradingState.REDUCING: Severity.WARNING}.get(
            rec.state, Severity.INFO)
        log.info("trading state %s: %s -> %s by %s (%s)", rec.scope, before.state, rec.state, rec.actor, rec.reason)
        self.events.publish(DomainEvent(
            kind="state_change", severity=severity, scope=rec.scope,
            title=f"{rec.scope} {before.state.value} -> {rec.state.value}", detail=rec.reason, action=rec.state.value,
            at=rec.changed_at, data={"from": before.state.value, "to": rec.state.value, "actor": rec.actor,
                                     "version": rec.version}))

    # ---------------------------------------------------------------- verbs
    def escalate(self, scope: Scope, state: TradingState, reason: str, actor: str = ENGINE_ACTOR):
        return self.change(scope, state, reason, actor)

    def halt(self, scope: Scope, reason: str, actor: str, until: datetime | None = None):
        text = f"{reason} until={until.isoformat()}" if until else reason
        return self.change(scope, TradingState.HALTED, text, actor)

    def resume(self, scope: Scope, actor: str, reason: str = "manual resume",
               to: TradingState = TradingState.ACTIVE) -> StateRecord | None:
        """Explicit resume by a human/procedure: the only way to lift an untimed HALTED. Rebases."""
        if not actor or actor.startswith("system:risk"):
            raise ValueError("resume needs a named human/procedure actor")
        rec = self.change(scope, to, f"RESUME: {reason}", actor, explicit=True)
        if rec is not None:
            for hook in self._rebase_hooks:
                hook(scope, rec.changed_at)
        return rec

    def release_expired(self, now: datetime | None = None) -> list[StateRecord]:
        """Lift timed halts whose `until` has passed (daily loss at the next rollover)."""
        now = now or self.clock.now()
        out = []
        for rec in self.repo.all():
            until = timed_until(rec)
            if rec.state is TradingState.HALTED and until is not None and until <= now:
                new = self.change(rec.scope, TradingState.ACTIVE, f"TIMED_HALT_EXPIRED: was '{rec.reason}'",
                                  ROLLOVER_ACTOR, explicit=True)
                if new:
                    out.append(new)
        return out

    def recover(self, scope: Scope, reason: str) -> StateRecord | None:
        """Lift a REDUCING that the risk engine itself set, once the scope is clean again."""
        cur = self.repo.get(scope)
        if cur.state is TradingState.REDUCING and cur.actor == ENGINE_ACTOR:
            return self.change(scope, TradingState.ACTIVE, f"RECOVERED: {reason}", ENGINE_ACTOR, explicit=True)
        return None


def scope_accounts(scope: Scope, firm) -> list[str]:
    """Accounts a scope covers (for flattening and rebasing)."""
    if scope.kind is ScopeKind.ACCOUNT:
        return [scope.name]
    if scope.kind is ScopeKind.GROUP:
        return firm.accounts_in(scope.name)
    return list(firm.account_group)
