"""The transparent draw: a published uniform lottery over m panels and a public seed.

Following Flanigan, Kehne and Procaccia ("Fair sortition made transparent", NeurIPS 2021),
the fair distribution (a few hundred panels with irrational-looking weights) is rounded to a
*uniform* lottery over m panels (default 1000): panel j of the distribution is listed c_j
times, sum c_j = m. Anyone can then check the draw by hand: the list is published with its
SHA-256 before the seed exists, and the seed picks one line of the list.

Rounding (``round_counts``):

1. Dependent (pipage) rounding of x = m * weights: two fractional entries at a time move
   mass between them until one is integral, choosing the direction at random with the
   probabilities that keep E[c_j] = x_j. The sum stays m exactly, and because the moves are
   negatively correlated, a person's count stays close to m * p_i.
2. Local search on the result: while some person's deviation |c.person / m - p_i| is the
   largest, move one copy from a panel to another panel of the support if that lowers the
   largest deviation (ties broken by the sum of squared deviations). Only panels of the
   distribution are ever used, so every panel in the lottery meets every quota.

The deviation actually reached is reported per person and as its maximum; FKP show that
O(sqrt(log n) / m)-type errors are reachable, and the local search usually lands well below
1/m * k for the instances we run.

Draw (``panel_index``), specified so it can be recomputed without this code::

    seed'   = NFC-normalised seed with surrounding whitespace removed (must be non-empty)
    for c in 0, 1, 2, ...:
        h = SHA-256(UTF-8("kleroterion-draw/1\\n" + lottery_sha256_hex + "\\n" + seed'
                          + "\\n" + str(c)))
        v = int(h, big-endian)
        if v < 2**256 - (2**256 mod m): return v mod m

Rejection of the top sliver makes every index exactly equally likely (no modulo bias); the
probability that even one retry is needed is below m / 2**256.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from services.sortition.engine import Distribution, Instance

LOTTERY_FORMAT = "kleroterion-lottery/1"
DRAW_DOMAIN = "kleroterion-draw/1"
DEFAULT_LOTTERY_SIZE = 1000
_FRAC_EPS = 1e-9


class LotteryError(ValueError):
    """A lottery file or draw input that cannot be used; ``field`` names the part."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


# ---- rounding -------------------------------------------------------------------------------

def _pipage(x: NDArray[np.float64], rng: np.random.Generator) -> NDArray[np.int64]:
    """Dependent rounding: pairs of fractional entries trade mass until one is integral, so
    the total is kept and every entry rounds up with probability equal to its fraction.
    The fractional entry left over from a pair meets the next one (one pass, O(n))."""
    counts = np.floor(x + _FRAC_EPS).astype(np.int64)
    frac = x - counts
    frac[np.abs(frac) < _FRAC_EPS] = 0.0
    order = np.flatnonzero(frac > _FRAC_EPS).tolist()
    rng.shuffle(order)
    carry = None
    for b in reversed(order):
        if carry is None:
            carry = b
            continue
        a = carry
        fa, fb = frac[a], frac[b]
        up = min(1.0 - fa, fb)     # a rises, b falls
        down = min(fa, 1.0 - fb)   # a falls, b rises
        if rng.random() < down / (up + down):
            fa, fb = fa + up, fb - up
        else:
            fa, fb = fa - down, fb + down
        frac[a], frac[b] = fa, fb
        carry = None
        for j in (a, b):
            if frac[j] <= _FRAC_EPS or frac[j] >= 1.0 - _FRAC_EPS:
                counts[j] += int(round(frac[j]))
                frac[j] = 0.0
            elif carry is None:
                carry = j
    if carry is not None:  # only float dust can be left here
        counts[carry] += int(round(frac[carry]))
    return counts


def _fix_total(counts: NDArray[np.int64], x: NDArray[np.float64], m: int) -> NDArray[np.int64]:
    # Float dust in the weights can leave the total one off; settle it where it hurts least.
    while counts.sum() > m:
        j = int(np.argmax(np.where(counts > 0, counts - x, -np.inf)))
        counts[j] -= 1
    while counts.sum() < m:
        counts[int(np.argmax(x - counts))] += 1
    return counts


class PanelMembers:
    """Panels as a (J, size) array of person indices, padded with a dummy person n, and who
    sits on which panels: national pools give 100,000+ panels, whose dense incidence matrix
    (panels x people) would take gigabytes."""

    def __init__(self, panels: Sequence[Sequence[int]], n_people: int):
        size = max((len(p) for p in panels), default=0)
        self.n = n_people
        self.members = np.full((len(panels), size), n_people, dtype=np.int64)
        for j, panel in enumerate(panels):
            self.members[j, :len(panel)] = list(panel)
        self.sizes = (self.members < n_people).sum(axis=1).astype(float)
        flat = self.members.ravel()
        order = np.argsort(flat, kind="stable")
        self._panel_of = order // max(size, 1)
        self._starts = np.searchsorted(flat[order], np.arange(n_people + 2))

    def panels_with(self, person: int) -> NDArray[np.int64]:
        return self._panel_of[self._starts[person]:self._starts[person + 1]]

    def holding_any(self, people: Iterable[int | np.integer[Any]]) -> NDArray[np.bool_]:
        """Mask over panels: holds at least one of ``people``."""
        mask = np.zeros(len(self.members), dtype=bool)
        for person in people:
            mask[self.panels_with(int(person))] = True
        return mask

    def sums(self, d: NDArray[np.float64]) -> NDArray[np.float64]:
        """Per panel, the sum of d over its members."""
        return np.concatenate([d, [0.0]])[self.members].sum(axis=1)

    def dense(self, rows: NDArray[np.intp]) -> NDArray[np.float32]:
        out = np.zeros((len(rows), self.n + 1), dtype=np.float32)
        np.put_along_axis(out, self.members[rows], 1.0, axis=1)
        return out[:, :self.n]


def _improve(counts: NDArray[np.int64], members: PanelMembers, p: NDArray[np.float64], m: int,
             time_budget: float, max_steps: int) -> NDArray[np.int64]:
    """Single-copy moves that lower the largest per-person deviation."""
    deadline = time.monotonic() + time_budget
    n = members.n
    d = np.bincount(members.members.ravel(), weights=np.repeat(counts, members.members.shape[1]),
                    minlength=n + 1)[:n] / m - p
    for _ in range(max_steps):
        if time.monotonic() > deadline:
            break
        worst = int(np.argmax(np.abs(d)))
        cur_max = float(abs(d[worst]))
        cur_sq = float(d @ d)
        has = members.holding_any([worst])
        # An over-represented person must lose a copy of a panel they sit on, and an
        # under-represented one gain one; the other panel of the move must differ there.
        if d[worst] > 0:
            src = np.flatnonzero(has & (counts > 0))
            dst = np.flatnonzero(~has)
        else:
            src = np.flatnonzero(~has & (counts > 0))
            dst = np.flatnonzero(has)
        # A copy gained pushes each member up by 1/m, a copy lost each member down: panels
        # holding someone who would then pass the current maximum cannot help.
        near_top = members.holding_any(np.flatnonzero(d > cur_max - 1.0 / m + 1e-15))
        near_bottom = members.holding_any(np.flatnonzero(d < -cur_max + 1.0 / m - 1e-15))
        src = src[~near_bottom[src]]
        dst = dst[~near_top[dst]]
        if len(src) == 0 or len(dst) == 0:
            break
        # Rank pairs by the change of the sum of squares (exact and cheap), then judge the
        # best few by the largest deviation, which is what is reported.
        s = members.sums(d)
        # Bounded candidate sets keep a step O(k * 64 * 256) on pools with thousands of panels.
        src = src[np.argsort(-s[src], kind="stable")[:64]]
        dst = dst[np.argsort(s[dst], kind="stable")[:256]]
        overlap = members.dense(src) @ members.dense(dst).T
        size = members.sizes
        delta = (2.0 / m) * (s[dst][None, :] - s[src][:, None]) + (
            size[src][:, None] + size[dst][None, :] - 2.0 * overlap) / (m * m)
        flat = np.argsort(delta, axis=None)[:24]
        best = None
        for f in flat:
            a, b = src[f // len(dst)], dst[f % len(dst)]
            nd = d.copy()
            nd[members.members[b][members.members[b] < n]] += 1.0 / m
            nd[members.members[a][members.members[a] < n]] -= 1.0 / m
            key = (float(np.abs(nd).max()), float(nd @ nd))
            if best is None or key < best[0]:
                best = (key, a, b, nd)
        # Many people share the largest deviation (a type's members, in steps of 1/m): a
        # move that keeps the maximum but lowers the sum of squares takes one of them off it.
        if best is None or not (best[0][0] < cur_max - 1e-15
                                or (best[0][0] <= cur_max + 1e-15 and best[0][1] < cur_sq - 1e-15)):
            break
        _, a, b, d = best
        counts[a] -= 1
        counts[b] += 1
    return counts


def round_counts(distribution: Distribution, n_people: int, m: int = DEFAULT_LOTTERY_SIZE, *,
                 seed: int = 0, time_budget: float = 10.0,
                 max_steps: int = 20000) -> NDArray[np.int64]:
    """Integer copies per panel of ``distribution`` (summing to m) whose uniform lottery
    keeps every person's selection probability close to the distribution's."""
    if m < 1:
        raise LotteryError("lottery_size", f"must be at least 1, got {m}")
    w = np.clip(np.asarray(distribution.weights, dtype=float), 0.0, None)
    if len(w) == 0 or w.sum() <= 0:
        raise LotteryError("distribution", "has no panel with positive weight")
    w = w / w.sum()
    x = m * w
    rng = np.random.default_rng(seed)
    counts = _fix_total(_pipage(x, rng), x, m)
    members = PanelMembers(distribution.panels, n_people)
    p = np.asarray(distribution.probabilities, dtype=float)
    return _improve(counts, members, p, m, time_budget, max_steps)


# ---- the published lottery ------------------------------------------------------------------

@dataclass(frozen=True)
class Lottery:
    """A uniform lottery over ``panels`` (each a sorted tuple of pseudonymous ids; a panel
    listed c times has chance c/m). ``data`` is the exact published file; ``sha256`` its
    hash."""

    panels: tuple[tuple[str, ...], ...]
    seats: int
    algorithm: str
    pool_sha256: str
    data: bytes
    sha256: str

    @property
    def size(self) -> int:
        return len(self.panels)

    def probabilities(self, ids: Sequence[str]) -> NDArray[np.float64]:
        pos = {pid: i for i, pid in enumerate(ids)}
        out = np.zeros(len(ids))
        for panel in self.panels:
            for pid in panel:
                out[pos[pid]] += 1
        return out / self.size


def canonical_bytes(obj: dict[str, Any]) -> bytes:
    return (json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            + "\n").encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pool_sha256(instance: Instance) -> str:
    """A fingerprint of everything the distribution depends on, so a lottery can be tied to
    the pool it was computed for without publishing anyone's features."""
    obj = {
        "people": sorted([p.id, sorted(p.features.items()), p.household or ""]
                         for p in instance.people),
        "quotas": [[q.feature, q.value, q.min, q.max] for q in instance.quotas],
        "seats": instance.seats,
        "already_selected": sorted(instance.already_selected),
        "one_per_household": bool(instance.one_per_household),
    }
    return sha256_hex(canonical_bytes(obj))


def build_lottery(instance: Instance, distribution: Distribution,
                  counts: NDArray[np.int64]) -> Lottery:
    ids = [p.id for p in instance.people]
    listed: list[tuple[str, ...]] = []
    for panel, c in zip(distribution.panels, counts, strict=False):
        members = tuple(sorted(ids[i] for i in panel))
        listed.extend([members] * int(c))
    # Sorted so the list depends only on its content, not on solver order.
    listed.sort()
    pool_hash = pool_sha256(instance)
    obj = {
        "format": LOTTERY_FORMAT,
        "algorithm": distribution.algorithm,
        "seats": instance.seats,
        "size": len(listed),
        "pool_sha256": pool_hash,
        "panels": [list(p) for p in listed],
    }
    data = canonical_bytes(obj)
    return Lottery(tuple(listed), instance.seats, distribution.algorithm, pool_hash,
                   data, sha256_hex(data))


@dataclass(frozen=True)
class RoundedLottery:
    lottery: Lottery
    # Per person (instance order): chance in the published lottery and its deviation from
    # the computed distribution.
    lottery_probabilities: NDArray[np.float64]
    deviations: NDArray[np.float64]

    @property
    def max_deviation(self) -> float:
        return float(np.abs(self.deviations).max(initial=0.0))


def make_lottery(instance: Instance, distribution: Distribution, m: int = DEFAULT_LOTTERY_SIZE,
                 *, seed: int = 0, time_budget: float = 10.0) -> RoundedLottery:
    """Round ``distribution`` to a uniform lottery over m panels and serialise it."""
    counts = round_counts(distribution, len(instance.people), m, seed=seed,
                          time_budget=time_budget)
    lottery = build_lottery(instance, distribution, counts)
    lp = lottery.probabilities([p.id for p in instance.people])
    return RoundedLottery(lottery, lp, lp - np.asarray(distribution.probabilities, dtype=float))


def parse_lottery(data: bytes) -> Lottery:
    """Read a published lottery file. It must be exactly canonical, so that one list has one
    hash and nobody can argue about whitespace or ordering."""
    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LotteryError("lottery", f"not a JSON file ({exc})") from None
    if not isinstance(obj, dict) or obj.get("format") != LOTTERY_FORMAT:
        raise LotteryError("lottery.format", f"expected {LOTTERY_FORMAT!r}")
    panels = obj.get("panels")
    if not isinstance(panels, list) or not panels:
        raise LotteryError("lottery.panels", "must be a non-empty list")
    seats: Any = obj.get("seats")  # checked against every panel below
    for j, panel in enumerate(panels):
        if not isinstance(panel, list) or not all(isinstance(i, str) for i in panel):
            raise LotteryError(f"lottery.panels[{j}]", "must be a list of ids")
        if panel != sorted(set(panel)):
            raise LotteryError(f"lottery.panels[{j}]", "ids must be distinct and sorted")
        if len(panel) != seats:
            raise LotteryError(f"lottery.panels[{j}]", f"has {len(panel)} ids for {seats} seats")
    if panels != sorted(panels):
        raise LotteryError("lottery.panels", "must be sorted")
    if obj.get("size") != len(panels):
        raise LotteryError("lottery.size",
                           f"says {obj.get('size')} but {len(panels)} panels are listed")
    if canonical_bytes(obj) != data:
        raise LotteryError("lottery", "is not in canonical form (sorted keys, no spaces, one "
                                      "trailing newline); it was changed after publication")
    return Lottery(tuple(tuple(p) for p in panels), int(seats), str(obj.get("algorithm", "")),
                   str(obj.get("pool_sha256", "")), data, sha256_hex(data))


# ---- the draw -------------------------------------------------------------------------------

def normalize_seed(seed: str) -> str:
    text = unicodedata.normalize("NFC", seed or "").strip()
    if not text:
        raise LotteryError("seed", "is empty")
    return text


def panel_index(lottery_sha256: str, seed: str, m: int) -> int:
    """The documented, deterministic draw (see the module docstring)."""
    if m < 1:
        raise LotteryError("lottery_size", f"must be at least 1, got {m}")
    seed_n = normalize_seed(seed)
    span = 1 << 256
    limit = span - span % m
    for counter in itertools.count():
        msg = f"{DRAW_DOMAIN}\n{lottery_sha256}\n{seed_n}\n{counter}".encode()
        v = int.from_bytes(hashlib.sha256(msg).digest(), "big")
        if v < limit:
            return v % m
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class DrawResult:
    panel_index: int
    panel: tuple[str, ...]
    lottery_sha256: str
    seed: str
    size: int


def draw(lottery: Lottery, seed: str) -> DrawResult:
    index = panel_index(lottery.sha256, seed, lottery.size)
    return DrawResult(index, lottery.panels[index], lottery.sha256, normalize_seed(seed),
                      lottery.size)


def verify(data: bytes, seed: str, expect_sha256: str | None = None) -> DrawResult:
    """Recompute the hash and the drawn panel from a published file and the seed."""
    digest = sha256_hex(data)
    if expect_sha256 is not None and digest != expect_sha256.strip().lower():
        raise LotteryError("lottery", f"SHA-256 is {digest}, the published hash is "
                                      f"{expect_sha256.strip().lower()}")
    return draw(parse_lottery(data), seed)
