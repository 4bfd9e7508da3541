"""Rotating small groups ("skiftende grupper"): who sits at which table in a group-work slot.

Across an assembly's group-work slots, members should meet as many different fellow
members as possible, each table should mix the stratification features like the room does,
and the facilitators' constraints (keep apart, keep together, fixed table) must hold.

Each round is built greedily (facilitator-fixed members first, then keep-together blocks,
then members with keep-apart constraints, then everyone else, each to the table where they
add the least cost), then improved by simulated annealing over swaps of two members. The
cost of a table is

    REPEAT_WEIGHT × Σ over pairs at the table of (times the pair met before)
    + FEATURE_WEIGHT × Σ over features and values of (count − the room's share × table size)²

so a pair that has met twice costs twice as much to seat together again, which spreads the
unavoidable repeats. The hard constraints are never traded against cost: a move that breaks
one is not considered. Everything is deterministic given the seed (the search runs a fixed
number of iterations, not a time budget, so a rerun gives the same plan).
"""
from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

REPEAT_WEIGHT = 6.0
FEATURE_WEIGHT = 1.0
START_TEMPERATURE = 4.0
KINDS = ("apart", "together", "fixed")


class GroupingError(ValueError):
    """A seating request that cannot be met; ``field`` names the constraint or parameter."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Constraint:
    """A facilitator's rule: keep these members ``apart`` (no two at one table), keep them
    ``together`` (all at one table), or seat them at a ``fixed`` table (1-based)."""

    kind: str
    members: tuple[str, ...]
    table: int | None = None
    label: str = ""

    def name(self, index: int) -> str:
        return self.label or f"constraints[{index}] ({self.kind})"


def pair_key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def table_sizes(n: int, table_size: int) -> list[int]:
    """Balanced sizes (differ by at most one), as few tables as the size allows."""
    if table_size < 2:
        raise GroupingError("table_size", f"must be at least 2, got {table_size}")
    if n == 0:
        return []
    tables = math.ceil(n / table_size)
    base, extra = divmod(n, tables)
    return [base + 1 if t < extra else base for t in range(tables)]


def count_pairs(rounds: Iterable[Sequence[Sequence[str]]]) -> Counter:
    met: Counter = Counter()
    for tables in rounds:
        for table in tables:
            for a, b in combinations(table, 2):
                met[pair_key(a, b)] += 1
    return met


def pair_stats(rounds: Iterable[Sequence[Sequence[str]]]) -> dict:
    """Distinct pairs that met, repeat pairings (every meeting of a pair after its first)
    and the most times one pair met."""
    met = count_pairs(rounds)
    return {"distinct_pairs": len(met),
            "repeat_pairings": sum(c - 1 for c in met.values()),
            "max_meetings": max(met.values(), default=0)}


class _Problem:
    def __init__(self, members: Sequence[str], features: Mapping[str, Mapping[str, str]],
                 table_size: int, met: Mapping[tuple[str, str], int],
                 constraints: Sequence[Constraint]) -> None:
        self.ids = list(members)
        if len(set(self.ids)) != len(self.ids):
            raise GroupingError("members", "a member is listed twice")
        self.n = n = len(self.ids)
        self.index = {m: i for i, m in enumerate(self.ids)}
        self.sizes = table_sizes(n, table_size)
        self.T = len(self.sizes)
        self.M = [[0] * n for _ in range(n)]
        for (a, b), count in met.items():
            i, j = self.index.get(a), self.index.get(b)
            if i is not None and j is not None and i != j:
                self.M[i][j] = self.M[j][i] = count
        # Features as small integers, and each table's expected count of each value.
        keys = sorted({k for m in self.ids for k in (features.get(m) or {})})
        self.fvals: list[list[int]] = [[0] * len(keys) for _ in range(n)]
        self.nvalues: list[int] = []
        self.expected: list[list[list[float]]] = [[] for _ in range(self.T)]
        for f, key in enumerate(keys):
            codes: dict[str, int] = {}
            for i, m in enumerate(self.ids):
                value = str((features.get(m) or {}).get(key, ""))
                self.fvals[i][f] = codes.setdefault(value, len(codes))
            counts = Counter(self.fvals[i][f] for i in range(n))
            self.nvalues.append(len(codes))
            for t, size in enumerate(self.sizes):
                self.expected[t].append([size * counts[v] / n for v in range(len(codes))])
        self.F = len(keys)
        self._constraints(constraints)

    def _constraints(self, constraints: Sequence[Constraint]) -> None:
        n, idx = self.n, self.index
        self.apart: list[set[int]] = [set() for _ in range(n)]
        self.apart_by: dict[tuple[int, int], str] = {}
        self.fixed: dict[int, int] = {}
        fixed_by: dict[int, str] = {}
        parent = list(range(n))
        together_by: dict[int, str] = {}

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for k, c in enumerate(constraints):
            name = c.name(k)
            if c.kind not in KINDS:
                raise GroupingError(name, f"unknown kind {c.kind!r} (kinds: {', '.join(KINDS)})")
            # Absent members are not seated, so their constraints only bind the rest.
            present = [idx[m] for m in dict.fromkeys(c.members) if m in idx]
            if c.kind == "fixed":
                if c.table is None or not 1 <= c.table:
                    raise GroupingError(name, "a fixed constraint needs a table number from 1")
                if present and c.table > self.T:
                    raise GroupingError(name, f"table {c.table} does not exist: {n} present "
                                              f"members sit at {self.T} tables")
                for i in present:
                    if i in self.fixed and self.fixed[i] != c.table - 1:
                        raise GroupingError(name, f"member {self.ids[i]} is already fixed to "
                                                  f"table {self.fixed[i] + 1} by {fixed_by[i]}")
                    self.fixed[i] = c.table - 1
                    fixed_by[i] = name
            elif c.kind == "apart":
                for i, j in combinations(present, 2):
                    self.apart[i].add(j)
                    self.apart[j].add(i)
                    self.apart_by.setdefault((min(i, j), max(i, j)), name)
            else:
                for i in present:
                    together_by.setdefault(i, name)
                for i in present[1:]:
                    parent[find(i)] = find(present[0])
        blocks: dict[int, list[int]] = {}
        for i in range(n):
            blocks.setdefault(find(i), []).append(i)
        self.blocks = list(blocks.values())
        self.block_of = [0] * n
        largest = max(self.sizes, default=0)
        for b, block in enumerate(self.blocks):
            for i in block:
                self.block_of[i] = b
            if len(block) > 1:
                name = together_by[block[0]]
                if len(block) > largest:
                    raise GroupingError(name, f"{len(block)} members must sit together but "
                                              f"tables seat at most {largest}")
                for i, j in combinations(block, 2):
                    if j in self.apart[i]:
                        raise GroupingError(self.apart_by[(min(i, j), max(i, j))],
                                            f"members {self.ids[i]} and {self.ids[j]} must "
                                            f"also sit together ({name})")
                tables = {self.fixed[i] for i in block if i in self.fixed}
                if len(tables) > 1:
                    raise GroupingError(name, "its members are fixed to different tables "
                                              f"({', '.join(str(t + 1) for t in sorted(tables))})")
                if tables:
                    t = tables.pop()
                    for i in block:
                        self.fixed.setdefault(i, t)
                        fixed_by.setdefault(i, name)
        for (i, j), name in self.apart_by.items():
            if i in self.fixed and j in self.fixed and self.fixed[i] == self.fixed[j]:
                raise GroupingError(name, f"members {self.ids[i]} and {self.ids[j]} are both "
                                          f"fixed to table {self.fixed[i] + 1}")
        load = Counter(self.fixed.values())
        for t, count in load.items():
            if count > self.sizes[t]:
                names = sorted({fixed_by[i] for i in self.fixed if self.fixed[i] == t})
                raise GroupingError(names[0], f"{count} members are fixed to table {t + 1}, "
                                              f"which seats {self.sizes[t]}")
        self.movable = [i for i in range(n) if i not in self.fixed
                        and len(self.blocks[self.block_of[i]]) == 1]


class _Seating:
    """A round's tables with the counts the incremental cost needs."""

    def __init__(self, p: _Problem):
        self.p = p
        self.tables: list[list[int]] = [[] for _ in range(p.T)]
        self.where = [-1] * p.n
        self.counts = [[[0] * p.nvalues[f] for f in range(p.F)] for _ in range(p.T)]

    def add_cost(self, unit: Sequence[int], t: int) -> float:
        p = self.p
        pair = sum(p.M[i][x] for i in unit for x in self.tables[t])
        pair += sum(p.M[i][j] for i, j in combinations(unit, 2))
        feat = 0.0
        for f in range(p.F):
            added = Counter(p.fvals[i][f] for i in unit)
            for v, k in added.items():
                c, e = self.counts[t][f][v], p.expected[t][f][v]
                feat += (c + k - e) ** 2 - (c - e) ** 2
        return REPEAT_WEIGHT * pair + FEATURE_WEIGHT * feat

    def place(self, unit: Sequence[int], t: int) -> None:
        for i in unit:
            self.tables[t].append(i)
            self.where[i] = t
            for f in range(self.p.F):
                self.counts[t][f][self.p.fvals[i][f]] += 1

    def fits(self, unit: Sequence[int], t: int) -> bool:
        if len(self.tables[t]) + len(unit) > self.p.sizes[t]:
            return False
        apart = self.p.apart
        return not any(x in apart[i] for i in unit for x in self.tables[t])

    def swap_delta(self, a: int, b: int) -> float:
        p, M = self.p, self.p.M
        A, B = self.where[a], self.where[b]
        Ma, Mb = M[a], M[b]
        pair = 0
        for x in self.tables[A]:
            if x != a:
                pair += Mb[x] - Ma[x]
        for y in self.tables[B]:
            if y != b:
                pair += Ma[y] - Mb[y]
        feat = 0.0
        fa, fb = p.fvals[a], p.fvals[b]
        cA, cB, eA, eB = self.counts[A], self.counts[B], p.expected[A], p.expected[B]
        for f in range(p.F):
            va, vb = fa[f], fb[f]
            if va == vb:
                continue
            # a leaves A and b arrives there; the reverse at B. (c±1−e)² − (c−e)² = 1 ± 2(c−e)
            feat += (2 - 2 * (cA[f][va] - eA[f][va]) + 2 * (cA[f][vb] - eA[f][vb])
                     + 2 - 2 * (cB[f][vb] - eB[f][vb]) + 2 * (cB[f][va] - eB[f][va]))
        return REPEAT_WEIGHT * pair + FEATURE_WEIGHT * feat

    def swap_allowed(self, a: int, b: int) -> bool:
        A, B = self.where[a], self.where[b]
        apart = self.p.apart
        if apart[a] and any(y != b and y in apart[a] for y in self.tables[B]):
            return False
        if apart[b] and any(x != a and x in apart[b] for x in self.tables[A]):
            return False
        return True

    def swap(self, a: int, b: int) -> None:
        A, B = self.where[a], self.where[b]
        ta, tb = self.tables[A], self.tables[B]
        ta[ta.index(a)] = b
        tb[tb.index(b)] = a
        self.where[a], self.where[b] = B, A
        fa, fb = self.p.fvals[a], self.p.fvals[b]
        for f in range(self.p.F):
            if fa[f] != fb[f]:
                self.counts[A][f][fa[f]] -= 1
                self.counts[A][f][fb[f]] += 1
                self.counts[B][f][fb[f]] -= 1
                self.counts[B][f][fa[f]] += 1


def _construct(p: _Problem, rng: random.Random) -> _Seating | None:
    s = _Seating(p)
    fixed_units = [b for b in p.blocks if b[0] in p.fixed]
    blocks = [b for b in p.blocks if b[0] not in p.fixed and len(b) > 1]
    singles = [b for b in p.blocks if b[0] not in p.fixed and len(b) == 1]
    rng.shuffle(blocks)
    rng.shuffle(singles)
    blocks.sort(key=len, reverse=True)
    singles.sort(key=lambda b: len(p.apart[b[0]]), reverse=True)
    for unit in fixed_units:
        s.place(unit, p.fixed[unit[0]])
    for unit in blocks + singles:
        options = [t for t in range(p.T) if s.fits(unit, t)]
        if not options:
            return None
        best = min(options, key=lambda t: (s.add_cost(unit, t), rng.random()))
        s.place(unit, best)
    return s


def _anneal(s: _Seating, rng: random.Random, iterations: int) -> None:
    movable = s.p.movable
    if len(movable) < 2 or s.p.T < 2 or iterations <= 0:
        return
    temp, final = START_TEMPERATURE, 0.02
    cooling = (final / temp) ** (1.0 / iterations)
    where = s.where
    choice = rng.choice
    rand = rng.random
    for _ in range(iterations):
        a = choice(movable)
        b = choice(movable)
        if where[a] != where[b] and s.swap_allowed(a, b):
            delta = s.swap_delta(a, b)
            if delta <= 0 or rand() < math.exp(-delta / temp):
                s.swap(a, b)
        temp *= cooling


def assign_round(members: Sequence[str], features: Mapping[str, Mapping[str, str]],
                 table_size: int, *, met: Mapping[tuple[str, str], int] | None = None,
                 constraints: Sequence[Constraint] = (), seed: int | str = 0,
                 iterations: int | None = None) -> list[list[str]]:
    """Seat the present ``members`` at balanced tables of at most ``table_size``.

    ``met`` counts earlier meetings per pair (``pair_key`` order); ``constraints`` are the
    facilitators' rules (members absent from ``members`` are ignored in them). Raises
    ``GroupingError`` naming the constraint when they cannot all hold.
    """
    p = _Problem(members, features, table_size, met or {}, constraints)
    if p.n == 0:
        return []
    rng = random.Random(f"{seed}")
    seating = None
    for _attempt in range(30):
        seating = _construct(p, rng)
        if seating is not None:
            break
    if seating is None:
        name = next(iter(p.apart_by.values()), "constraints")
        raise GroupingError(name, "no seating keeps these members apart at "
                                  f"{p.T} tables of {max(p.sizes)}")
    _anneal(seating, rng, iterations if iterations is not None else 150 * p.n)
    return [[p.ids[i] for i in table] for table in seating.tables]


def plan_rounds(members: Sequence[str], features: Mapping[str, Mapping[str, str]],
                table_size: int, rounds: int, *, constraints: Sequence[Constraint] = (),
                absent: Mapping[int, Iterable[str]] | None = None, seed: int | str = 0,
                iterations: int | None = None) -> list[list[list[str]]]:
    """Plan ``rounds`` group-work slots one after the other, each knowing who met before.
    ``absent`` maps a round (0-based) to the members missing from it."""
    met: Counter = Counter()
    plan = []
    for r in range(rounds):
        missing = set((absent or {}).get(r, ()))
        present = [m for m in members if m not in missing]
        tables = assign_round(present, features, table_size, met=met, constraints=constraints,
                              seed=f"{seed}:{r}", iterations=iterations)
        met.update(count_pairs([tables]))
        plan.append(tables)
    return plan


def random_rounds(members: Sequence[str], table_size: int, rounds: int,
                  seed: int | str = 0) -> list[list[list[str]]]:
    """The baseline: an independent random shuffle into balanced tables every round."""
    rng = random.Random(f"{seed}")
    sizes = table_sizes(len(members), table_size)
    plan = []
    for _ in range(rounds):
        order = list(members)
        rng.shuffle(order)
        tables, start = [], 0
        for size in sizes:
            tables.append(order[start:start + size])
            start += size
        plan.append(tables)
    return plan
