"""The stock ledger: the one place where interceptors move. Per replication, as arrays:

    battery(t+1) = battery(t) - fired(t) + delivered_to_batteries(t) + moved(t)
    depot(t+1)   = depot(t) + delivered_to_depots(t) + produced(t) - moved(t)

so ``total(t+1) = total(t) - fired + delivered + produced`` and nothing is ever negative.
Each flow is applied by one method, which checks what it may take away."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


class LedgerError(AssertionError):
    """A flow would break the ledger: a bug in shieldwall, not a user mistake."""


@dataclass
class Ledger:
    battery: np.ndarray  # [rep, battery, interceptor] rounds at the batteries
    depot: np.ndarray  # [rep, depot, interceptor] rounds in depots
    # this night's flows, summed per [rep, battery or depot, interceptor]
    fired: np.ndarray = field(init=False)
    delivered_battery: np.ndarray = field(init=False)
    delivered_depot: np.ndarray = field(init=False)
    produced: np.ndarray = field(init=False)
    moved_in: np.ndarray = field(init=False)  # into batteries
    moved_out: np.ndarray = field(init=False)  # out of depots

    def __post_init__(self) -> None:
        self.battery = np.array(self.battery, np.int64)
        self.depot = np.array(self.depot, np.int64)
        self.start_night()

    def start_night(self) -> None:
        self._battery0, self._depot0 = self.battery.copy(), self.depot.copy()
        self.fired = np.zeros_like(self.battery)
        self.delivered_battery = np.zeros_like(self.battery)
        self.moved_in = np.zeros_like(self.battery)
        self.delivered_depot = np.zeros_like(self.depot)
        self.produced = np.zeros_like(self.depot)
        self.moved_out = np.zeros_like(self.depot)

    # flows ---------------------------------------------------------------------------------------
    def deliver_battery(self, b: int, k: int, quantity: int) -> None:
        self.battery[:, b, k] += quantity
        self.delivered_battery[:, b, k] += quantity

    def deliver_depot(self, d: int, k: int, quantity: int) -> None:
        self.depot[:, d, k] += quantity
        self.delivered_depot[:, d, k] += quantity

    def produce(self, d: int, k: int, quantity: int) -> None:
        self.depot[:, d, k] += quantity
        self.produced[:, d, k] += quantity

    def move(self, k: int | np.ndarray, to_battery: np.ndarray) -> None:
        """Move ``to_battery`` [rep, battery] rounds of ``k`` out of the depots (in depot order);
        or, with ``k`` an array of distinct kinds, [rep, battery, kind] rounds of each at once."""
        kinds = np.atleast_1d(np.asarray(k, np.int64))
        to = np.asarray(to_battery, np.int64).reshape(*to_battery.shape[:2], len(kinds))
        want = to.sum(axis=1)  # [rep, kind]
        if (to < 0).any() or (want > self.depot[:, :, kinds].sum(axis=1)).any():
            raise LedgerError("a move asks for more than the depots hold")
        left = want.copy()
        for d in range(self.depot.shape[1]):
            take = np.minimum(left, self.depot[:, d, kinds])
            self.depot[:, d, kinds] -= take
            self.moved_out[:, d, kinds] += take
            left -= take
        self.battery[:, :, kinds] += to
        self.moved_in[:, :, kinds] += to

    def top_up(self, target: np.ndarray) -> None:
        """Move rounds from the depots so that each battery gets back to ``target`` [battery,
        kind] (zero: not topped up): where the depots hold less than the batteries need, they
        share it pro rata to need. Each kind is shared on its own."""
        kinds = np.flatnonzero((target > 0).any(axis=0))
        if not len(kinds):
            return
        need = np.maximum(target[None, :, kinds] - self.battery[:, :, kinds], 0)  # [rep, battery, kind]
        rep, n_bat, n_kind = need.shape
        rows = need.transpose(0, 2, 1).reshape(rep * n_kind, n_bat)  # one row per (rep, kind): pro_rata is by row
        give = pro_rata(self.depot[:, :, kinds].sum(axis=1).reshape(-1), rows)
        self.move(kinds, give.reshape(rep, n_kind, n_bat).transpose(0, 2, 1))

    def fire(self, fired: np.ndarray) -> None:
        """Rounds fired in the night's raid, [rep, battery, interceptor]."""
        if (fired < 0).any() or (fired > self.battery).any():
            raise LedgerError("more rounds fired than the batteries held")
        self.battery -= fired
        self.fired += fired

    def check(self) -> None:
        """The identities, every replication, after the night's flows."""
        bat = self._battery0 - self.fired + self.delivered_battery + self.moved_in
        dep = self._depot0 + self.delivered_depot + self.produced - self.moved_out
        if not (np.array_equal(bat, self.battery) and np.array_equal(dep, self.depot)):
            raise LedgerError("stock ledger identity broken")
        if (self.battery < 0).any() or (self.depot < 0).any():
            raise LedgerError("negative stock")
        if not np.array_equal(self.moved_in.sum(axis=1), self.moved_out.sum(axis=1)):
            raise LedgerError("moves do not balance")


def pro_rata(available: np.ndarray, need: np.ndarray) -> np.ndarray:
    """Split ``available`` [rep] over ``need`` [rep, battery]: everyone gets their need when there
    is enough, else shares in proportion to need by largest remainder (ties: battery order)."""
    need = np.asarray(need, np.int64)
    total = need.sum(axis=1)
    give = np.minimum(available, total)
    with np.errstate(invalid="ignore", divide="ignore"):
        exact = np.where(total[:, None] > 0, give[:, None] * need / np.maximum(total, 1)[:, None], 0.0)
    return np.minimum(largest_remainder(exact, give), need)


def largest_remainder(exact: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Round each row of ``exact`` [rep, m] to integers summing to ``total`` [rep]: floors, then
    one more to the largest fractional parts (ties: lower index), as the engine splits raids."""
    base = np.floor(exact).astype(np.int64)
    rest = np.asarray(total, np.int64) - base.sum(axis=1)
    order = np.argsort(-(exact - base), axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.broadcast_to(np.arange(exact.shape[1]), exact.shape).copy(), axis=1)
    return base + (rank < rest[:, None])


def split_by_weight(n: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """[rep, m]: each n split in proportion to ``weights`` (all zero: equally), by largest remainder."""
    w = np.asarray(weights, float)
    w = np.ones_like(w) if w.sum() <= 0 else w
    return largest_remainder(np.asarray(n, float)[:, None] * w[None, :] / w.sum(), n)
