"""The code endpoints' rate limit (services/common/ratelimit.py): counted per client and per
code, in the database (so threads and replicas share it), escalating, and never counting a
success. The endpoints themselves are tested in each service's test_code_rate_limit.py."""
from __future__ import annotations

import threading

import pytest

from services.common import ratelimit, storage
from services.common.ratelimit import CodeGuard, Limits, RateLimited
from services.common.settings import ServiceSettings

LIMITS = Limits(failures_per_client=10, failures_per_code=5, window_seconds=600,
                lockout_seconds=900, max_lockout_seconds=86_400)


def _engine(url):
    return storage.make_engine(url)


def _fail(engine, client, code, times=1, limits=LIMITS):
    for _ in range(times):
        CodeGuard(engine, limits, "code", code, client).failed()


def _wait(engine, client, code, limits=LIMITS):
    try:
        CodeGuard(engine, limits, "code", code, client).check()
    except RateLimited as exc:
        assert exc.status == 429 and exc.field == "code"
        return exc.retry_after
    return 0


def _behaviour(url):
    engine = _engine(url)
    # Ten different wrong codes from one client: the client is locked for 15 minutes ...
    for n in range(9):
        _fail(engine, "10.0.0.1", f"WRONG-{n}")
    assert _wait(engine, "10.0.0.1", "ANY") == 0
    _fail(engine, "10.0.0.1", "WRONG-9")
    assert 899 <= _wait(engine, "10.0.0.1", "GOOD-CODE") <= 900
    # ... other clients are not, and a code nobody failed with is not.
    assert _wait(engine, "10.0.0.2", "GOOD-CODE") == 0
    # Five failures with one code from five clients lock that code (typed any way).
    for n in range(5):
        _fail(engine, f"10.0.1.{n}", "abcd-EFGH")
    assert 899 <= _wait(engine, "10.0.2.1", "ABCD EFGH") <= 900
    assert _wait(engine, "10.0.2.1", "OTHER") == 0
    engine.dispose()


def test_locks_clients_and_codes_on_sqlite(tmp_path):
    _behaviour(f"sqlite:///{tmp_path / 'limits.db'}")


@pytest.mark.postgres
def test_locks_clients_and_codes_on_postgresql(postgres_database):
    _behaviour(postgres_database)


def test_a_second_lockout_lasts_twice_as_long_up_to_the_maximum(tmp_path):
    engine = _engine(f"sqlite:///{tmp_path / 'limits.db'}")
    short = Limits(failures_per_client=2, failures_per_code=100, window_seconds=600,
                   lockout_seconds=100, max_lockout_seconds=300)
    waits = []
    for _ in range(4):
        _fail(engine, "10.0.0.9", None, 2, short)
        waits.append(_wait(engine, "10.0.0.9", None, short))
    assert waits == [100, 200, 300, 300]


def test_replicas_and_threads_share_one_count(tmp_path):
    """Two engines on one file are two replicas; 4 threads each: 40 failures, no lost one."""
    url = f"sqlite:///{tmp_path / 'limits.db'}"
    replicas = [_engine(url), _engine(url)]
    wide = Limits(failures_per_client=40, failures_per_code=1000, window_seconds=600,
                  lockout_seconds=60, max_lockout_seconds=60)
    threads = [threading.Thread(target=_fail, args=(replicas[n % 2], "10.9.9.9", None, 5, wide))
               for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Exactly the 40th failure locked the client; both replicas see it.
    assert all(_wait(e, "10.9.9.9", None, wide) == 60 for e in replicas)
    for e in replicas:
        e.dispose()


def test_nothing_in_the_clear_and_surrogates_do_not_crash(tmp_path):
    engine = _engine(f"sqlite:///{tmp_path / 'limits.db'}")
    _fail(engine, "192.0.2.77", "SECRET-CODE-\udc80")
    with engine.connect() as conn:
        stored = str(conn.execute(ratelimit.rate_limit_counters.select()).fetchall())
    assert "192.0.2.77" not in stored and "SECRET" not in stored
    assert stored.count("client:") == 1 and stored.count("code:") == 1


def test_the_limits_are_settings():
    s = ServiceSettings.from_env({"KLERO_CODE_FAILURES_PER_CLIENT": "3",
                                  "KLERO_CODE_LOCKOUT_SECONDS": "60"})
    assert Limits.of(s).failures_per_client == 3 and Limits.of(s).lockout_seconds == 60
    documented = {variable for variable, _, _ in s.documented()}
    assert {"KLERO_CODE_FAILURES_PER_CLIENT", "KLERO_CODE_FAILURES_PER_CODE",
            "KLERO_CODE_FAILURE_WINDOW_SECONDS", "KLERO_CODE_LOCKOUT_SECONDS",
            "KLERO_CODE_LOCKOUT_MAX_SECONDS"} <= documented
