"""Alerts benchmark: cost of the outbox and of Block Kit rendering, against baselines in the same run.

- publish(): dedupe + enqueue into the SQLite store outbox, vs the store's bare `outbox.enqueue`
  (target: the service adds < 50 % over the raw insert).
- deliver_pending() to a local fake Slack, per message, vs the irreducible work: a bare slack-sdk
  `chat_postMessage` of the same blocks plus one durable store write (target: < 2x that).
Run: `.venv/bin/python benchmarks/bench_alerts.py`.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta

from multiaccount.alerts import build_alerts, render_event
from multiaccount.alerts.messages import RenderContext
from multiaccount.alerts.transport import BotTransport
from multiaccount.config import load_firm
from multiaccount.domain import ManualClock, Scope, Severity
from multiaccount.domain.ports import DomainEvent

N = 200
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))  # tests.fixtures.slack


def _event(i: int, at: datetime) -> DomainEvent:
    return DomainEvent(kind="risk_violation", severity=Severity.WARNING, scope=Scope.account("EU_HF_001"),
                       title="Group risk near limit", measured=0.066, limit=0.08, action="halve risk", at=at,
                       data={"limit_name": f"limit_{i}"})


def _per_op(fn, n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    return (time.perf_counter() - start) / n


def main() -> list[dict]:
    from multiaccount.store import Store
    from tests.fixtures.slack import FAKE_TOKEN, FakeSlack

    os.environ["MULTIACCOUNT_HOME"] = tempfile.mkdtemp(prefix="bench-alerts-")
    firm = load_firm()
    clock = ManualClock(datetime(2026, 12, 1, 9, tzinfo=UTC))
    store = Store.open()
    fake = FakeSlack().start()
    try:
        transport = BotTransport(FAKE_TOKEN, base_url=fake.base_url)
        service = build_alerts(firm, store, clock=clock, transport=transport)
        now = clock.now()

        raw_enqueue = _per_op(lambda i: store.outbox.enqueue(f"raw|{i}", "warning", "#c", {"e": i}, at=now,
                                                             window=timedelta(seconds=300)), N)
        publish = _per_op(lambda i: service.publish(_event(i, now)), N)

        message = render_event(_event(0, now), RenderContext.from_firm(firm))
        raw_post = _per_op(lambda i: transport.client.chat_postMessage(channel="#c", text=message.text,
                                                                       blocks=message.blocks), N)
        start = time.perf_counter()
        sent = 0
        while True:
            report = service.deliver_pending(now + timedelta(seconds=1))
            if not report.sent:
                break
            sent += len(report.sent)
        deliver = (time.perf_counter() - start) / max(1, sent)
    finally:
        fake.stop()

    rows = [
        {"benchmark": "publish (dedupe+enqueue) s/op", "value": publish, "baseline": raw_enqueue,
         "ratio": publish / raw_enqueue, "target": "< 1.5x raw enqueue", "ok": publish / raw_enqueue < 1.5},
        {"benchmark": f"deliver_pending s/msg ({sent} msgs)", "value": deliver, "baseline": raw_post + raw_enqueue,
         "ratio": deliver / (raw_post + raw_enqueue), "target": "< 2x (bare post + one store write)",
         "ok": deliver / (raw_post + raw_enqueue) < 2.0},
    ]
    print(f"{'benchmark':42} {'value':>10} {'baseline':>10} {'ratio':>7}  target")
    for r in rows:
        print(f"{r['benchmark']:42} {r['value'] * 1000:8.2f}ms {r['baseline'] * 1000:8.2f}ms {r['ratio']:7.2f}  "
              f"{r['target']} {'OK' if r['ok'] else 'MISS'}")
    return rows


if __name__ == "__main__":
    main()
