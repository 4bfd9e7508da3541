"""Ballot secrecy by construction: an attacker holding the database files after a round has
closed (the SQLite file and its write-ahead log; PostgreSQL's tables with their system
columns) cannot link a voter to a level.

Twenty members vote in a random order, but by level in blocks (the first four full
support, the next four support, ...), the pattern a real room often has: whoever learns
the voting order learns every vote. The attacker tries every order the storage could keep
(the voters' cells in the file's pages, the write-ahead log, the rows' own order, key
order, PostgreSQL's ctid and xmin, the audit log) and guesses each voter's level from it;
no guess is better than chance. The same attack during the round finds the order in the
file's pages, which shows the attack is real (docs/SECURITY.md names that limit)."""
from __future__ import annotations

import random
import struct
from pathlib import Path

import pytest
import sqlalchemy as sa
from recommendations_support import ASSEMBLY, PanelDrawn, cast_levels, codes, draft, vote

from services.common import audit
from services.recommendations import models

VOTERS = [f"voter-{n:02d}-x" for n in range(1, 21)]
BLOCKS = ["full_support", "support", "neutral", "reservations", "opposition"]
# Chance gives about 4 right of 20 (5 blocks of 4); 12 or more has a chance below 1e-4.
BETTER_THAN_CHANCE = 12


def _vote_all(svc):
    svc.publish(PanelDrawn(run_id="r-secret", member_ids=VOTERS))
    rec = draft(svc)
    r = svc.call("post", f"/recommendations/{rec['id']}/rounds")
    assert r.status_code == 201, r.json
    round_id = r.json["id"]
    assert svc.call("put", f"/rounds/{round_id}/roll-call",
                    present=VOTERS).status_code == 200
    member_codes = codes(svc, VOTERS)
    order = VOTERS[:]
    random.Random(20250301).shuffle(order)  # the voting order is not the key order
    truth = {}
    for i, voter in enumerate(order):
        truth[voter] = BLOCKS[i // 4]
        assert vote(svc, round_id, member_codes[voter], truth[voter]).status_code == 201
    return round_id, order, truth


def _guess(attacker_order, counts_in_time_order):
    """The attacker's best use of an order: the i-th voter gets the i-th level of the
    voting pattern (the attacker knows the final counts and the blocks' order)."""
    levels = [level for level, n in counts_in_time_order for _ in range(n)]
    return dict(zip(attacker_order, levels, strict=True))


def _right(guess, truth):
    return sum(guess[v] == truth[v] for v in truth)


def _pattern(svc, round_id):
    counts = dict((lv, n) for lv, n in
                  ((lv, cast_levels(svc, round_id).count(lv)) for lv in BLOCKS))
    return [(lv, counts[lv]) for lv in BLOCKS]


def _cell_order(data: bytes, table: str, db_path: Path) -> list[str]:
    """The voters in the order SQLite put their cells in the table's page: cells are
    carved from the end of the page as they are inserted, so the highest offset came first."""
    import sqlite3
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        root, = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?",
                             (table,)).fetchone()
        page_size, = conn.execute("PRAGMA page_size").fetchone()
    page = data[(root - 1) * page_size: root * page_size]
    assert page[0] in (0x0A, 0x0D), "the voters fit on one leaf page in this test"
    n_cells = struct.unpack(">H", page[3:5])[0]
    pointers = [struct.unpack(">H", page[8 + 2 * i: 10 + 2 * i])[0] for i in range(n_cells)]
    found = []
    for offset in pointers:
        cell = page[offset: offset + 120]  # this cell and maybe the next: take the first
        at = {v: cell.find(v.encode()) for v in VOTERS if v.encode() in cell}
        if at:
            found.append((offset, min(at, key=at.__getitem__)))
    return [voter for _, voter in sorted(found, reverse=True)]


def _sqlite_orders(svc, round_id) -> dict[str, list[str]]:
    db_path = Path(str(svc.ctx.engine.url.database))
    data = db_path.read_bytes()
    wal = Path(f"{db_path}-wal")
    wal_bytes = wal.read_bytes() if wal.exists() else b""
    orders = {
        "cells in the file's page": _cell_order(data, "rec_round_voters", db_path),
        # First appearance of each voter in the write-ahead log, frame after frame.
        "write-ahead log": sorted((v for v in VOTERS if v.encode() in wal_bytes),
                                  key=lambda v: wal_bytes.index(v.encode())),
        "first bytes in the file": sorted(VOTERS, key=lambda v: data.find(v.encode())),
        "last bytes in the file": sorted(VOTERS, key=lambda v: -data.rfind(v.encode())),
    }
    with svc.ctx.engine.connect() as conn:
        orders["rows as stored"] = list(conn.scalars(
            sa.select(models.round_voters.c.member_id)
            .where(models.round_voters.c.round_id == round_id)))
    return orders


def _postgres_orders(svc, round_id) -> dict[str, list[str]]:
    with svc.ctx.engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT member_id, ctid::text AS ctid, xmin::text::bigint AS xmin "
            "FROM rec_round_voters WHERE round_id = :r"), {"r": round_id}).fetchall()
        tally_xmins = set(conn.scalars(sa.text(
            "SELECT xmin::text FROM rec_round_tallies WHERE round_id = :r"), {"r": round_id}))

    def ctid_key(text):
        block, item = text.strip("()").split(",")
        return int(block), int(item)
    assert len(tally_xmins) == 1  # every level's count written together, by the same writer
    return {
        "ctid": [r.member_id for r in sorted(rows, key=lambda r: ctid_key(r.ctid))],
        "xmin": [r.member_id for r in sorted(rows, key=lambda r: (r.xmin, r.member_id))],
        "rows as stored": [r.member_id for r in rows],
    }


def _no_order_links(orders, pattern, truth):
    assert all(len(set(o)) == len(o) for o in orders.values())
    for name, order in orders.items():
        if len(order) < len(VOTERS):  # absent from this place: nothing to order by
            continue
        right = _right(_guess(order, pattern), truth)
        assert right < BETTER_THAN_CHANCE, f"{name} gives away {right} of 20 ballots"


def _audit_names_no_voter(svc):
    for entry in audit.entries(svc.ctx.engine, limit=10_000):
        if entry.action == "round.vote":
            assert entry.actor == "member" and not any(v in str(entry) for v in VOTERS)


def test_the_files_of_a_closed_round_link_no_voter_to_a_level_sqlite(make_recommendations):
    svc = make_recommendations()
    round_id, voting_order, truth = _vote_all(svc)
    pattern = _pattern(svc, round_id)
    assert pattern == [(lv, 4) for lv in BLOCKS]
    # During the round the attack is real: the page still has the voting order.
    during = _sqlite_orders(svc, round_id)
    assert during["cells in the file's page"] == voting_order
    assert _right(_guess(during["cells in the file's page"], pattern), truth) == 20

    closed = svc.call("post", f"/rounds/{round_id}/close")
    assert closed.status_code == 200, closed.json
    assert closed.json["voted"] == 20
    assert [d["count"] for d in closed.json["result"]["distribution"]] == [4, 4, 4, 4, 4, 0]
    db_path = Path(str(svc.ctx.engine.url.database))
    wal = Path(f"{db_path}-wal")
    assert not wal.exists() or wal.stat().st_size == 0  # checkpointed and truncated
    after = _sqlite_orders(svc, round_id)
    assert sorted(after["cells in the file's page"]) == VOTERS  # the attack still reads them
    _no_order_links(after, pattern, truth)
    _audit_names_no_voter(svc)
    # No column anywhere holds a key, a time or a sequence of a ballot.
    assert set(models.round_voters.c.keys()) == {"round_id", "member_id"}
    assert set(models.round_tallies.c.keys()) == {"round_id", "level", "count"}
    assert "hmac_key" not in models.rounds.c


def test_after_every_vote_the_write_ahead_log_is_empty(make_recommendations):
    svc = make_recommendations()
    svc.publish(PanelDrawn(run_id="r-wal", member_ids=VOTERS[:3]))
    rec = draft(svc)
    round_id = svc.call("post", f"/recommendations/{rec['id']}/rounds").json["id"]
    svc.call("put", f"/rounds/{round_id}/roll-call", present=VOTERS[:3])
    member_codes = codes(svc, VOTERS[:3])
    wal = Path(f"{svc.ctx.engine.url.database}-wal")
    for voter, level in zip(VOTERS[:3], ("support", "opposition", "neutral"), strict=True):
        assert vote(svc, round_id, member_codes[voter], level).status_code == 201
        # No earlier picture of the count is left to compare with the next one.
        assert not wal.exists() or wal.stat().st_size == 0
    assert cast_levels(svc, round_id) == ["neutral", "opposition", "support"]


@pytest.mark.postgres
def test_the_tables_of_a_closed_round_link_no_voter_to_a_level_postgres(
        make_recommendations, postgres_database):
    svc = make_recommendations(database_url=postgres_database)
    round_id, voting_order, truth = _vote_all(svc)
    pattern = _pattern(svc, round_id)
    during = _postgres_orders(svc, round_id)
    assert during["xmin"] == voting_order  # the attack is real while the round is open
    assert svc.call("post", f"/rounds/{round_id}/close").status_code == 200
    after = _postgres_orders(svc, round_id)
    # Rewritten at the close: one transaction id for all, and the rows in random order.
    _no_order_links({"ctid": after["ctid"], "rows as stored": after["rows as stored"]},
                    pattern, truth)
    with svc.ctx.engine.connect() as conn:
        xmins = set(conn.scalars(sa.text(
            "SELECT xmin::text FROM rec_round_voters WHERE round_id = :r"), {"r": round_id}))
        dead = conn.scalar(sa.text(
            "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'rec_round_tallies'"))
    assert len(xmins) == 1
    assert not dead  # vacuumed at the close: no earlier count in the table's pages
    _audit_names_no_voter(svc)
    assert ASSEMBLY  # the round belonged to the test's assembly
