"""The writer thread survives a failing store call and a failing after-store hook; a dead thread
is seen and restarted; rejection reasons stay a bounded set of categories."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from geniot.data.store import SensorStore
from geniot.ingest.checks import REASON_KINDS, utc_now
from geniot.ingest.messages import Reading
from geniot.ingest.writer import BatchWriter


class PoisonStore(SensorStore):
    """A real DuckDB store that refuses any batch holding the asset ``poison`` (a fault injected
    for the test: the real store has no input that fails on purpose)."""

    def append_rows(self, frame):
        if (frame["asset"] == "poison").any():
            raise RuntimeError("store refused the poison batch")
        return super().append_rows(frame)


class Fatal(BaseException):
    """Stands for what ``except Exception`` does not catch (the thread really dies)."""


def _readings(asset: str, n: int = 3, start: int = 0) -> list[Reading]:
    t0 = utc_now() - timedelta(hours=1)
    return [Reading(t0 + timedelta(seconds=start + i), asset, "temp", float(i)) for i in range(n)]


@pytest.fixture()
def store(tmp_path):
    s = PoisonStore(tmp_path / "s.duckdb")
    yield s
    s.close()


def test_a_failing_store_call_fails_only_its_own_submission(store):
    writer = BatchWriter(store, max_delay_s=0.2)  # both submissions land in one batch
    done = {"good": threading.Event(), "poison": threading.Event()}
    writer.submit(_readings("P-1"), done["good"].set)
    writer.submit(_readings("poison"), done["poison"].set)
    assert writer.flush(5)
    assert done["good"].is_set() and not done["poison"].is_set()  # poison is not acknowledged: MQTT redelivers it
    assert store.count() == 3 and writer.alive
    assert writer.stats.write_errors >= 1 and writer.stats.not_stored == 3 and "poison" in writer.stats.last_error
    writer.submit(_readings("P-2"))  # and ingest goes on
    assert writer.flush(5) and store.count() == 6
    writer.close()


def test_store_now_says_why_when_the_store_refuses(store):
    writer = BatchWriter(store)
    n, problem = writer.store_now(_readings("poison"))
    assert n == 3 and "refused" in problem
    assert writer.store_now(_readings("P-1")) == (3, None)
    writer.close()


def test_a_failing_after_store_hook_is_counted_and_ingest_goes_on(store):
    calls = []

    def hook(readings):
        calls.append(len(readings))
        raise ValueError("array must not contain infs or NaNs")

    writer = BatchWriter(store, on_stored=hook)
    for i in range(3):
        writer.submit(_readings("P-1", start=10 * i))
        assert writer.flush(5)
    assert writer.alive and store.count() == 9 and len(calls) == 3
    assert writer.stats.on_stored_errors == 3 and "infs" in writer.stats.last_error
    writer.close()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dead_thread_is_reported_and_restarted_with_nothing_lost(store):
    armed = threading.Event()
    armed.set()

    def hook(readings):
        if armed.is_set():
            armed.clear()
            raise Fatal("killed")

    writer = BatchWriter(store, on_stored=hook)
    stored = threading.Event()
    writer.submit(_readings("P-1"), stored.set)
    assert writer.flush(5)  # the dying thread still releases the flush
    writer._thread.join(5)
    assert stored.is_set() and store.count() == 3
    assert writer.state == "dead" and not writer.alive and "Fatal" in writer.problem()
    n, problem = writer.store_now(_readings("P-2"))
    assert n == 0 and "dead" in problem
    writer.submit(_readings("P-3"))  # queued while dead: kept for the restart
    assert writer.ensure_running() and writer.restarts == 1 and writer.state == "running"
    assert not writer.ensure_running()
    assert writer.flush(5) and store.count() == 6
    assert writer.store_now(_readings("P-2")) == (3, None) and store.count() == 9
    writer.close()
    assert not writer.ensure_running()  # a closed writer stays closed


def test_readings_failing_the_checks_become_dead_letters(store):
    writer = BatchWriter(store)
    t = utc_now()
    rs = [Reading(t, "P-1", "temp", 1.0), Reading(t, "P-1", "temp2", 1e308), Reading(t, "..", "temp", 1.0)]
    assert writer.submit(rs) == 1
    assert writer.flush(5)
    assert store.count() == 1 and store.count_dead_letters() == 2
    assert writer.stats.reasons == {"out-of-range": 1, "bad-name": 1}
    writer.close()


def test_reasons_stay_bounded_whatever_the_names(store):
    writer = BatchWriter(store)
    for i in range(2000):
        writer.reject("mqtt", f"s/a/bad name {i}./x", f"asset 'bad name {i}.' is not a valid name", b"{}")
        writer.reject("mqtt", "t", f"weird problem number {i}", b"{}")
    assert writer.flush(10)
    assert set(writer.stats.reasons) <= set(REASON_KINDS) and len(writer.stats.reasons) <= 21
    assert writer.stats.reasons["bad-name"] == 2000 and writer.stats.reasons["other"] == 2000
    assert store.count_dead_letters() == 4000  # every one kept with its reason
    writer.close()


def test_lag_is_zero_when_idle(store):
    writer = BatchWriter(store)
    writer.submit(_readings("P-1"))
    assert writer.flush(5)
    assert writer.lag_s() == 0.0 and writer.queued() == 0 and writer.problem() is None
    writer.close()


def test_close_writes_a_long_queue_that_takes_longer_than_the_stall_limit(store):
    """Closing after a flood drains the queue while batches keep being written: nothing that was
    accepted is dropped because the drain takes longer than a fixed wait."""
    import time

    def slow_hook(readings):
        time.sleep(0.05)  # live scoring that takes its time

    writer = BatchWriter(store, batch_size=3, max_delay_s=0.0, on_stored=slow_hook)
    for i in range(40):
        writer.submit(_readings("P-1", start=10 * i))
    assert writer.close(stall_s=0.5) == 0  # ~2 s of writing, four times the stall limit
    assert store.count() == 120 and not writer.alive
    assert writer.close() == 0  # a second close is a no-op


def test_close_says_what_it_left_when_the_writer_stands_still(store, capsys):
    release = threading.Event()

    def stuck_hook(readings):
        release.wait(10)

    writer = BatchWriter(store, batch_size=3, max_delay_s=0.0, on_stored=stuck_hook)
    for i in range(5):
        writer.submit(_readings("P-1", start=10 * i))
    left = writer.close(stall_s=0.5)
    release.set()
    assert left >= 4  # the stop item and the submissions behind the stuck batch
    assert "not written" in writer.stats.last_error and "not written" in capsys.readouterr().out
    assert not writer.ensure_running()  # closed: the supervisor does not bring it back
