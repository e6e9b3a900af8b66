"""States packed into 64-bit words, and a set of packed states, over numpy arrays.

:class:`Layout` gives every slot of a :class:`~checker.core.schema.Schema` a bit
field in one of a few ``uint64`` words: ``value - domain.lo`` in
``(hi - lo).bit_length()`` bits, first fit in slot order, never straddling
two words. Word 0 keeps its top bit clear, so an all-ones word 0 never
encodes a state and :class:`StateSet` uses it to mark an empty slot.

A batch of ``n`` states is a C-contiguous ``uint64`` array of shape
``(n, nwords)``; :func:`rows` views it as ``n`` opaque items so that numpy
gathers and scatters whole states at once.

:class:`StateSet` is an open-addressing hash table (linear probing) over
those rows, used a whole batch at a time: :meth:`StateSet.add` inserts a
batch of distinct states and says which were new. It doubles when it gets
fuller than ``max_load``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..core.schema import Schema

EMPTY = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
"""Word 0 of an empty hash slot: no state packs to it (word 0's top bit is always clear)."""

_EMPTY_INT = int(EMPTY)
_SLICE = 1 << 20  # old-table slots re-laid out at a time when the table grows
_FEW = 48  # a batch's last keys are probed one by one: rounds of numpy calls cost more

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLD = np.uint64(0x9E3779B97F4A7C15)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)


def _mix(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser: a bijection of uint64 that spreads every input bit."""
    x = x ^ (x >> _S30)
    x *= _M1
    x ^= x >> _S27
    x *= _M2
    x ^= x >> _S31
    return x


def hash_keys(keys: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each packed state (a row of ``keys``)."""
    h = _mix(keys[:, 0] + _GOLD)
    for w in range(1, keys.shape[1]):
        h = _mix(h ^ keys[:, w])
    return h


def rows(keys: np.ndarray) -> np.ndarray:
    """``keys`` (n, nwords) viewed as n opaque items, for whole-state gathers and scatters."""
    return keys.view(np.dtype((np.void, 8 * keys.shape[1]))).reshape(len(keys))


def take(keys: np.ndarray, idx) -> np.ndarray:
    """The rows of ``keys`` at ``idx`` (an index array or a mask); numpy's own 2-D row
    gather is many times slower than this gather of opaque items."""
    return rows(keys)[idx].view(np.uint64).reshape(-1, keys.shape[1])


def same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise equality of two key batches."""
    eq = a[:, 0] == b[:, 0]
    for w in range(1, a.shape[1]):
        eq &= a[:, w] == b[:, w]
    return eq


def int_dtype(lo: int, hi: int) -> np.dtype:
    """The narrowest signed integer dtype holding ``lo..hi``."""
    for dt in (np.int8, np.int16, np.int32, np.int64):
        info = np.iinfo(dt)
        if info.min <= lo and hi <= info.max:
            return np.dtype(dt)
    raise OverflowError(f"values {lo}..{hi} do not fit 64 bits")


@dataclass(frozen=True)
class Field:
    """Where one slot lives: word, bit offset, width, and its domain's bounds."""

    word: int
    shift: int
    bits: int
    lo: int
    hi: int

    @property
    def dtype(self) -> np.dtype:
        """The dtype of an unpacked column of this slot."""
        return int_dtype(self.lo, self.hi)


class Layout:
    """Bit fields for the slots of ``schema``."""

    def __init__(self, schema: Schema):
        self.schema = schema
        fields: list[Field] = []
        used = [0]
        for dom in schema.slot_domains:
            bits = (dom.hi - dom.lo).bit_length()
            room = [63] + [64] * (len(used) - 1)  # word 0 keeps its top bit clear
            w = next((k for k in range(len(used)) if used[k] + bits <= room[k]), None)
            if w is None:
                w = len(used)
                used.append(0)
            fields.append(Field(w, used[w], bits, dom.lo, dom.hi))
            used[w] += bits
        self.fields = tuple(fields)
        self.nwords = len(used)
        self.bits = sum(f.bits for f in fields)

    def empty(self, n: int = 0) -> np.ndarray:
        """A zeroed key batch of ``n`` states."""
        return np.zeros((n, self.nwords), np.uint64)

    def pack(self, columns: Sequence[np.ndarray]) -> np.ndarray:
        """Keys from one column per slot (values in their domains)."""
        n = len(columns[0]) if len(columns) else 0
        keys = self.empty(n)
        for f, col in zip(self.fields, columns):
            if f.bits:
                keys[:, f.word] |= (np.asarray(col, np.int64) - f.lo).astype(np.uint64) << np.uint64(f.shift)
        return keys

    def column(self, keys: np.ndarray, slot: int) -> np.ndarray:
        """One slot of every state, as values of its domain (dtype :attr:`Field.dtype`)."""
        f = self.fields[slot]
        if not f.bits:
            return np.full(len(keys), f.lo, f.dtype)
        raw = (keys[:, f.word] >> np.uint64(f.shift)) & np.uint64((1 << f.bits) - 1)
        col = raw.astype(f.dtype)
        if f.lo:
            col += f.dtype.type(f.lo)
        return col

    def pack_states(self, states: Sequence[tuple]) -> np.ndarray:
        """Keys of a list of state tuples."""
        arr = np.array(states, np.int64).reshape(len(states), self.schema.width)
        return self.pack([arr[:, i] for i in range(self.schema.width)])

    def unpack_states(self, keys: np.ndarray) -> list[tuple]:
        """State tuples of a key batch."""
        if not self.schema.width:
            return [() for _ in range(len(keys))]
        cols = np.stack([self.column(keys, i).astype(np.int64) for i in range(self.schema.width)], 1)
        return [tuple(row) for row in cols.tolist()]


class StateSet:
    """A set of packed states: open addressing with linear probing, a batch at a time."""

    def __init__(self, nwords: int, capacity_bits: int = 12, max_load: float = 0.75):
        self.nwords = nwords
        self.max_load = max_load
        self.count = 0
        self._alloc(capacity_bits)

    def _alloc(self, bits: int) -> None:
        self.bits = bits
        self.mask = (1 << bits) - 1
        self.table = np.zeros((1 << bits, self.nwords), np.uint64)
        self.table[:, 0] = EMPTY  # also touches every page now, not one fault at a time later
        self.items = rows(self.table)

    @property
    def size(self) -> int:
        """Number of slots."""
        return self.mask + 1

    @property
    def nbytes(self) -> int:
        """Memory held by the table."""
        return self.table.nbytes

    def keys(self) -> np.ndarray:
        """Every state in the set, in table order."""
        return take(self.table, self.table[:, 0] != EMPTY)

    def _grow(self, need: int) -> None:
        bits = self.bits
        while need > self.max_load * (1 << bits):
            bits += 1
        if bits == self.bits:
            return
        old = self.table
        self._alloc(bits)
        self.count = 0
        deferred = []
        run_start, last = 0, -1  # the run of occupied slots that the next key may join
        for lo in range(0, len(old), _SLICE):
            part = old[lo:lo + _SLICE]
            keys = take(part, part[:, 0] != EMPTY)
            if len(keys):
                late, run_start, last = self._load(keys, run_start, last)
                deferred.append(late)
        del old
        rest = np.concatenate(deferred) if deferred else self.table[:0]
        if len(rest):
            self._insert(rest, hash_keys(rest))

    def _load(self, keys: np.ndarray, run_start: int, last: int) -> tuple[np.ndarray, int, int]:
        """Lay out distinct keys absent from the table, in one pass, as linear probing would.

        The keys are sorted by home slot; each goes to ``max(home, previous + 1)``,
        which keeps every slot between a key's home and its place occupied as
        long as the home is not before the current run of occupied slots (the
        slots before ``last`` were filled by earlier calls, in table order). Keys
        that would break that, or run off the end of the table, are returned
        to be inserted the ordinary way; so are the new ``run_start`` and ``last``.
        """
        home = (hash_keys(keys) >> np.uint64(64 - self.bits)).astype(np.int64)
        order = np.argsort(home, kind="stable")
        home = home[order]
        ok = home >= run_start
        late = take(keys, order[~ok])
        order, home = order[ok], home[ok]
        if not len(home):
            return late, run_start, last
        step = np.arange(len(home), dtype=np.int64)
        pos = np.maximum.accumulate(np.maximum(home, last + 1) - step) + step
        fits = pos <= self.mask
        self.items[pos[fits]] = rows(keys)[order[fits]]
        self.count += int(fits.sum())
        if not fits.all():
            late = np.concatenate([late, take(keys, order[~fits])])
        placed = pos[fits]
        if len(placed):
            # the current run starts after the last gap among the placed keys
            gaps = np.flatnonzero(np.diff(placed) > 1)
            if len(gaps):
                run_start = int(placed[gaps[-1] + 1])
            elif placed[0] > last + 1:
                run_start = int(placed[0])
            last = int(placed[-1])
        return late, run_start, last

    def add(self, keys: np.ndarray, hashes: np.ndarray | None = None) -> np.ndarray:
        """Insert a batch of *distinct* states; a mask of those that were not in the set before."""
        self._grow(self.count + len(keys))
        return self._insert(keys, hash_keys(keys) if hashes is None else hashes)

    def _insert(self, keys: np.ndarray, hashes: np.ndarray) -> np.ndarray:
        new = np.zeros(len(keys), bool)
        slot = (hashes >> np.uint64(64 - self.bits)).astype(np.int64)
        pending = np.arange(len(keys))
        want = keys
        while pending.size:
            if pending.size <= _FEW:
                self._insert_each(pending, slot, want, new)
                break
            here = take(self.table, slot)
            empty = here[:, 0] == EMPTY
            retry = np.zeros(0, np.int64)
            if empty.any():
                # Claim: several keys may race for one empty slot; one whole-row write sticks.
                e, es, ek = pending[empty], slot[empty], take(want, empty)
                self.items[es] = rows(ek)
                won = same(take(self.table, es), ek)
                new[e[won]] = True
                self.count += int(won.sum())
                lost = ~won  # the slot now holds another key: probe it again next round
                retry, retry_slot, retry_keys = e[lost], es[lost], take(ek, lost)
            go_on = ~empty
            go_on[go_on] = ~same(here[go_on], take(want, go_on))
            pending, slot, want = pending[go_on], (slot[go_on] + 1) & self.mask, take(want, go_on)
            if retry.size:
                pending = np.concatenate([pending, retry])
                slot = np.concatenate([slot, retry_slot])
                want = np.concatenate([want, retry_keys])
        return new

    def _insert_each(self, pending, slot, want, new) -> None:
        """The last few keys of a batch (long probe sequences), one at a time."""
        table, mask = self.table, self.mask
        for i, s, key in zip(pending.tolist(), slot.tolist(), want.tolist()):
            while True:
                here = table[s].tolist()
                if here[0] == _EMPTY_INT:
                    table[s] = key
                    new[i] = True
                    self.count += 1
                    break
                if here == key:
                    break
                s = (s + 1) & mask

    def contains(self, keys: np.ndarray) -> np.ndarray:
        """A mask of the states of the batch that are in the set."""
        found = np.zeros(len(keys), bool)
        slot = (hash_keys(keys) >> np.uint64(64 - self.bits)).astype(np.int64)
        pending = np.arange(len(keys))
        while pending.size:
            s = slot[pending]
            here = take(self.table, s)
            busy = here[:, 0] != EMPTY
            p, ps = pending[busy], s[busy]
            hit = same(here[busy], take(keys, p))
            found[p[hit]] = True
            slot[p[~hit]] = (ps[~hit] + 1) & self.mask
            pending = p[~hit]
        return found
