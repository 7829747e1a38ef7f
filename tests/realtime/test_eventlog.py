"""Risk events survive a store outage (buffer and replay) and a crash while it lasts (spill file)."""

from __future__ import annotations

import pytest

from multiaccount.domain import Scope, Severity
from multiaccount.realtime.eventlog import BufferedEventLog, RedisPublisher
from multiaccount.realtime.events import RiskEvent
from tests.fixtures.realtime import FlakyEventLog


def ev(n: int, clock) -> RiskEvent:
    return RiskEvent(kind="limit_breach", severity=Severity.CRITICAL, scope=Scope.account("EU_HF_001"),
                     title=f"event {n}", at=clock.now(), limit="daily_loss", measured=0.06, threshold=0.05)


def test_append_when_store_unavailable_then_buffers_and_replays_in_order(tmp_path, flaky_log, clock):
    # Arrange
    log = BufferedEventLog(flaky_log, tmp_path / "spill.jsonl")
    log.append(ev(1, clock))
    flaky_log.available = False
    # Act
    ok2 = log.append(ev(2, clock))
    ok3 = log.append(ev(3, clock))
    assert not ok2 and not ok3 and log.pending == 2
    flaky_log.available = True
    replayed = log.flush()
    # Assert
    assert replayed and log.pending == 0
    assert [e.title for e in flaky_log.rows] == ["event 1", "event 2", "event 3"]
    assert not (tmp_path / "spill.jsonl").exists()


def test_restart_when_store_was_down_then_spilled_events_are_replayed(tmp_path, flaky_log, clock):
    # Arrange: the service buffers two events, then "crashes" (the object is dropped)
    flaky_log.available = False
    first = BufferedEventLog(flaky_log, tmp_path / "spill.jsonl")
    first.append(ev(1, clock))
    first.append(ev(2, clock))
    del first
    flaky_log.available = True
    # Act: a new process starts with the same spill file
    second = BufferedEventLog(flaky_log, tmp_path / "spill.jsonl")
    second.flush()
    # Assert
    assert [e.title for e in flaky_log.rows] == ["event 1", "event 2"]
    assert flaky_log.rows[0].event_id and flaky_log.rows[0].at == clock.now()


def test_risk_event_when_round_tripped_through_dict_then_equal(clock):
    e = ev(7, clock)
    assert RiskEvent.from_dict(e.to_dict()) == e


@pytest.mark.redis
def test_redis_publisher_when_event_published_then_stream_holds_it(clock):
    import redis

    stream = f"multiaccount:test:{clock.now().timestamp()}:{id(clock)}"
    pub = RedisPublisher("redis://127.0.0.1:6379/15", stream=stream, heartbeat_key=stream + ":hb")
    r = redis.Redis.from_url("redis://127.0.0.1:6379/15")
    try:
        log = BufferedEventLog(FlakyEventLog(), None, [pub])
        log.append(ev(1, clock))
        pub.beat(clock.now(), {"status": "ok"})
        entries = r.xrange(stream)
        assert len(entries) == 1 and b"event 1" in entries[0][1][b"event"]
        assert b'"status": "ok"' in r.get(stream + ":hb")
    finally:
        r.delete(stream, stream + ":hb")
        pub.close()
