"""The discrete-event core of the serving simulator (one replica).

Private helper of :mod:`hwcost.serving`. Time advances by scheduler iterations, never per
token per request: during a stretch of pure decode iterations (no arrival that could be
admitted, no completion, no KV-cache overflow) the batch is fixed, so the stretch is
advanced in one step, in closed form when the decode step cost is affine in the context
length (checked numerically at start-up) and with one vectorized call otherwise.

Bookkeeping trick: all running sequences advance together, so with ``G`` the number of
decode iterations done so far, a sequence that joined the decode batch at ``G = s`` has
produced ``G - s`` tokens and finishes when ``G`` reaches ``s + remaining``. Completions are
a heap keyed on that number; the total context of the batch is ``S + b * G`` with
``S = sum(P_i - s_i)`` kept incrementally (``P_i`` = prompt tokens at join).
"""

from __future__ import annotations

import heapq
import inspect
import math
from collections import deque
from typing import Any

import numpy as np

from ..errors import HwcostError

_INF = math.inf
_NAN = math.nan
_FALLBACK_WINDOW = 64  # decode steps evaluated per vectorized call when not affine
_FIT_AFTER = 2  # direct calls of a mixed-iteration shape before it is fitted


class CostModel:
    """Step costs from a ``StepTimes`` object.

    For each batch size ``b`` the decode step cost ``decode_step_seconds(b, C)`` is fitted,
    at start-up, by a piecewise-affine function of the total context ``C`` (roofline
    models are a maximum of affine terms, sliding windows add a kink), and the fit is
    verified at sample points to 1e-9 relative; where it holds, a stretch of decode steps
    is summed in closed form, otherwise the step function is called on a vector of steps.
    """

    _GRID = 64  # intervals of the uniform part of the start-up grid per batch size

    def __init__(self, step_times, max_batch: int, kv_capacity: int):
        self.st = step_times
        self.max_batch = int(max_batch)
        self.kv_capacity = int(kv_capacity)
        self._prefill_cache: dict[tuple[int, int, int], float] = {}
        self._prefill_nseq = _accepts(step_times.prefill_seconds, "n_sequences")
        self._iter_ctx = _accepts(step_times.iteration_seconds, "prefill_context_tokens")
        # step times that evaluate one iteration cheaply on plain numbers (hwcost.perf's) are
        # called directly: fitting each recurring mixed shape would cost more than it saves
        self._direct = bool(getattr(step_times, "scalar_iteration_is_cheap", False))
        # mixed-iteration fits by (prompt tokens, batch, prompt context): an int counts the
        # calls so far (-1: no exact fit exists), a list holds pieces as for decode
        self._mixed: dict[tuple[int, int, int], Any] = {}
        # uniform, plus geometric near the short-context end where kinks are hard to bridge
        self._grid = np.unique(np.concatenate((np.linspace(0.0, 1.0, self._GRID + 1),
                                               np.geomspace(1e-6, 1.0, 25))))
        # per batch size, fitted on first use: pieces[b] = list of (upper knot, intercept,
        # slope), the last upper knot inf; None where no exact piecewise-affine fit exists
        self.pieces: dict[int, list | None] = {}
        self.single: dict[int, bool] = {}
        self.A: dict[int, float] = {}
        self.B: dict[int, float] = {}

    def _fit(self, b: int) -> None:
        lo = float(b)  # one cached token per sequence at least
        hi = max(float(self.kv_capacity), lo + 1.0)
        x = lo + self._grid * (hi - lo)
        mid = 0.5 * (x[1:] + x[:-1])
        y = self._eval(b, np.concatenate((x, mid)))
        pieces = _fit_pieces(x, y[:x.size], mid, y[x.size:])
        self.pieces[b] = pieces
        single = pieces is not None and len(pieces) == 1
        self.single[b] = single
        self.A[b] = pieces[0][1] if single else 0.0
        self.B[b] = pieces[0][2] if single else 0.0

    def _eval(self, b, ctx) -> np.ndarray:
        f = np.broadcast_to(np.asarray(self.st.decode_step_seconds(b, ctx), dtype=float),
                            np.broadcast_shapes(np.shape(b), np.shape(ctx)))
        if not np.all(np.isfinite(f)) or np.any(f <= 0):
            raise HwcostError(
                f"step_times.decode_step_seconds must return finite times > 0; got "
                f"{f[~(np.isfinite(f) & (f > 0))][:3]!r} for batch size {b}"
            )
        return f

    # -- single evaluations ----------------------------------------------------------
    def prefill(self, tokens: int, context: int = 0, sequences: int = 1) -> float:
        """A prefill-only pass over ``tokens`` prompt tokens in ``sequences`` equal prompts,
        each after ``context`` cached tokens. [s]"""
        key = (tokens, context, sequences)
        v = self._prefill_cache.get(key)
        if v is None:
            if self._prefill_nseq:
                v = float(self.st.prefill_seconds(tokens, context, n_sequences=sequences))
            else:
                v = float(self.st.prefill_seconds(tokens, context))
            if not (v > 0 and math.isfinite(v)):
                raise HwcostError(f"step_times.prefill_seconds({tokens}, {context}) = {v!r}; "
                                 "expected a finite time > 0")
            self._prefill_cache[key] = v
        return v

    def _iteration_exact(self, p: int, b: int, context, pctx: int):
        if self._iter_ctx:
            v = self.st.iteration_seconds(p, b, context, prefill_context_tokens=pctx)
        else:
            v = self.st.iteration_seconds(p, b, context)
        if v.__class__ is float:  # one iteration as a plain number: no array round trip
            if not (0.0 < v < _INF):
                raise HwcostError(f"step_times.iteration_seconds({p}, {b}, {context!r}) = {v!r}; "
                                 "expected finite times > 0")
            return v
        v = np.asarray(v, dtype=float)
        if not np.all((v > 0) & np.isfinite(v)):
            raise HwcostError(f"step_times.iteration_seconds({p}, {b}, {context!r}) = {v!r}; "
                             "expected finite times > 0")
        return v

    def iteration(self, prefill_tokens: int, b: int, context: int,
                  prefill_context: int = 0) -> float:
        """A mixed iteration: ``prefill_tokens`` prompt tokens (after ``prefill_context``
        cached tokens of their sequence) and one decode step of ``b`` sequences. [s]

        Once a (prompt tokens, batch, prompt context) combination has come up a few times, its
        cost is fitted as a piecewise-affine function of the decode context (verified
        exact to 1e-9 relative); later calls evaluate the fit instead of the step times.
        """
        if self._direct:
            return float(self._iteration_exact(prefill_tokens, b, context, prefill_context))
        key = (prefill_tokens, b, prefill_context)
        pieces = self._mixed.get(key, 0)
        if pieces.__class__ is int:
            if -1 < pieces < _FIT_AFTER:  # rare so far (or never fits): evaluate directly
                self._mixed[key] = pieces + 1
            if pieces != _FIT_AFTER:
                return float(self._iteration_exact(prefill_tokens, b, context, prefill_context))
            lo = float(b)
            hi = max(float(self.kv_capacity), lo + 1.0)
            quick = lo + np.array([0.0, 0.137, 0.25, 0.5, 0.61, 0.75, 0.883, 1.0]) * (hi - lo)
            y = self._iteration_exact(prefill_tokens, b, quick, prefill_context)
            slope = (y[-1] - y[0]) / (hi - lo)
            if np.all(np.abs(y[0] + slope * (quick - lo) - y) <= 1e-9 * y):
                pieces = [(_INF, float(y[0] - slope * lo), float(slope))]
            else:
                x = lo + self._grid * (hi - lo)
                mid = 0.5 * (x[1:] + x[:-1])
                yy = self._iteration_exact(prefill_tokens, b, np.concatenate((x, mid)),
                                           prefill_context)
                pieces = _fit_pieces(x, yy[:x.size], mid, yy[x.size:]) or -1
            self._mixed[key] = pieces
            if pieces == -1:
                return float(self._iteration_exact(prefill_tokens, b, context, prefill_context))
        for up, a, sl in pieces:  # noqa: B007 -- the last piece read is used below
            if context < up:
                break
        return a + sl * context

    def first(self, b: int, context: int) -> float:
        if b not in self.single:
            self._fit(b)
        if self.single[b]:
            return self.A[b] + self.B[b] * context
        pieces = self.pieces[b]
        if pieces is None:
            return float(self.st.decode_step_seconds(b, context))
        for up, a, s in pieces:
            if context < up:
                return a + s * context
        return a + s * context

    def series(self, b: int, context: int, k: int) -> np.ndarray:
        """Durations of ``k`` decode steps of ``b`` sequences, contexts ``context + b*j``."""
        j = np.arange(k, dtype=float)
        return np.asarray(self.st.decode_step_seconds(b, context + b * j), dtype=float) * np.ones(k)

    # -- a stretch of decode-only iterations -----------------------------------------
    def advance(self, b: int, context: int, kmax: int, delta: float) -> tuple[int, float]:
        """Steps to run and their total time: ``kmax`` steps, or fewer, stopping at the
        first iteration boundary at or after ``delta`` seconds (an arrival)."""
        if b not in self.single:
            self._fit(b)
        if self.single[b]:
            return _affine_advance(self.A[b], self.B[b], b, context, kmax, delta)
        pieces = self.pieces[b]
        if pieces is None:
            m = min(kmax, _FALLBACK_WINDOW)
            cum = np.cumsum(self.series(b, context, m))
            k = m
            if delta < _INF:
                k = min(m, int(np.searchsorted(cum, delta, side="left")) + 1)
            return k, float(cum[k - 1])
        total = 0.0
        j = 0
        for up, a, s in pieces:
            if j >= kmax:
                break
            c = context + b * j
            if c >= up:
                continue
            # steps j .. j_end-1 have contexts below this piece's upper knot
            j_end = kmax if up == _INF else min(kmax, max(j + 1, math.ceil((up - context) / b)))
            k, t = _affine_advance(a, s, b, c, j_end - j, delta - total)
            if k < j_end - j or total + t >= delta:
                return j + k, total + t
            total += t
            j = j_end
        return j, total


def decode_total(cost: "CostModel", b: int, context: int, k: int) -> float:
    """Total time of ``k`` decode steps of ``b`` sequences from total ``context``. [s]"""
    total, done = 0.0, 0
    while done < k:
        m, t = cost.advance(b, context + b * done, k - done, _INF)
        total += t
        done += m
    return total


def _accepts(fn, name: str) -> bool:
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def _affine_advance(A: float, B: float, b: int, context: int, kmax: int,
                    delta: float) -> tuple[int, float]:
    """Closed form for steps of cost ``A + B * (context + b*j)``, j = 0, 1, ..."""
    k = kmax
    if delta < _INF:
        a2 = 0.5 * B * b
        a1 = A + B * context - a2
        if a2 > 0:
            guess = (-a1 + math.sqrt(a1 * a1 + 4.0 * a2 * delta)) / (2.0 * a2)
        else:
            guess = delta / a1
        k = min(kmax, max(1, math.ceil(guess)))
        # guard against rounding in the root: k is the first boundary at or after delta
        while k > 1 and _affine_sum(A, B, b, context, k - 1) >= delta:
            k -= 1
        while k < kmax and _affine_sum(A, B, b, context, k) < delta:
            k += 1
    return k, _affine_sum(A, B, b, context, k)


def _affine_sum(A: float, B: float, b: int, context: int, k: int) -> float:
    """sum_{j<k} (A + B * (context + b*j))."""
    return k * A + B * (k * context + b * k * (k - 1) * 0.5)


def _fit_pieces(x: np.ndarray, y: np.ndarray, xm: np.ndarray, ym: np.ndarray):
    """Piecewise-affine fit of samples ``y(x)`` on a grid, verified at the grid
    points and the interval midpoints ``xm``; ``None`` when no exact fit is found.

    Runs of grid intervals with one slope become lines; a kink inside an interval shows
    as a lone interval between two lines and is placed at their intersection.
    """
    slope = np.diff(y) / np.diff(x)
    scale = float(np.max(np.abs(slope))) + 1e-300
    runs: list[list[int]] = [[0, 0]]
    for j in range(1, slope.size):
        if abs(slope[j] - slope[runs[-1][0]]) <= 1e-7 * scale:
            runs[-1][1] = j
        else:
            runs.append([j, j])
    lines = []
    for j0, j1 in runs:
        if j1 == j0 and 0 < j0 < slope.size - 1 and len(runs) > 1:
            continue  # a lone interval holding a kink: bridged by its neighbours
        s = float(np.mean(slope[j0:j1 + 1]))
        # anchor the line on its middle grid point, least exposed to rounding
        jm = (j0 + j1 + 1) // 2
        lines.append((float(y[jm] - s * x[jm]), s))
    pieces = []
    for k, (a, s) in enumerate(lines):
        if k + 1 < len(lines):
            a2, s2 = lines[k + 1]
            if s == s2:
                return None
            up = (a2 - a) / (s - s2)
        else:
            up = _INF
        pieces.append((up, a, s))
    ups = [p[0] for p in pieces]
    if any(u2 <= u1 for u1, u2 in zip(ups, ups[1:])):
        return None
    xs = np.concatenate((x, xm))
    ys = np.concatenate((y, ym))
    idx = np.searchsorted(np.asarray(ups), xs, side="right")
    a = np.asarray([p[1] for p in pieces])[idx]
    s = np.asarray([p[2] for p in pieces])[idx]
    if np.all(np.abs(a + s * xs - ys) <= 1e-9 * np.abs(ys)):
        return pieces
    return None


def _empty_state(n: int) -> dict:
    return {
        "admit": [_NAN] * n, "first": [_NAN] * n, "finish": [_NAN] * n, "step0": [_NAN] * n,
        "preemptions": [0] * n, "rejected": [False] * n, "busy_s": 0.0,
    }


def run_continuous(cost: CostModel, t_arr, L, N, *, max_batch: int, cap: int,
                   chunk: int | None, max_queue: int | None,
                   max_request_tokens: int | None = None) -> dict:
    """Iteration-level (continuous) batching with a KV-cache token budget.

    Without chunked prefill (``chunk=None``) an iteration either prefills the whole
    prompts of the requests just admitted, the running batch pausing meanwhile (vLLM's
    original scheduler), or runs one decode step for every running sequence. With chunked
    prefill every iteration carries one decode step for the running batch plus up to
    ``chunk`` prompt tokens, FCFS (stall-free batching, Sarathi-Serve). As in
    ``perf.estimate``, a request's k-th output token comes out of its k-th decode step
    after its prefill, at context prompt + k - 1.

    Admission is FCFS while the KV cache has room for the prompt plus one token per
    running sequence; when a decode step would overflow the cache, the most recently
    admitted request is preempted: its KV is freed and on readmission its prompt and the
    tokens generated so far are prefilled again (recomputation).
    """
    n = len(t_arr)
    out = _empty_state(n)
    admit, first, finish, step0 = out["admit"], out["first"], out["finish"], out["step0"]
    npre, rejected = out["preemptions"], out["rejected"]
    gen = [0] * n  # tokens generated before the current admission
    waiting: deque = deque()
    pre: deque = deque()  # [id, prompt tokens left, reserved KV tokens], admission order
    admitted: dict = {}  # insertion order = admission order (decode batch, then prefills)
    dec: dict = {}  # id -> (token, s, P): joined the batch at G = s with P tokens cached
    heap: list = []  # (G at which the sequence is done, token, id)
    fresh: list = []  # joined the decode batch, first token not yet out
    G = b = S = kv_pre = tok = ia = 0
    now = busy = 0.0
    heappush, heappop = heapq.heappush, heapq.heappop
    max_q = n + 1 if max_queue is None else max_queue
    # a request longer than the KV cache or the model's context window is turned away
    admit_cap = cap if max_request_tokens is None else min(cap, max_request_tokens)
    while True:
        # queue limit: max_q waiting beyond the free batch slots (checked at the boundary)
        limit = max_q + max_batch - len(admitted)
        while ia < n and t_arr[ia] <= now:
            if L[ia] + N[ia] > admit_cap or len(waiting) >= limit:
                rejected[ia] = True
            else:
                waiting.append(ia)
            ia += 1
        if not admitted and not waiting:
            if ia >= n:
                break
            now = t_arr[ia]
            continue
        # -- admission (FCFS, head-of-line) ------------------------------------------
        used = kv_pre + S + b * G  # KV tokens held
        na = len(admitted)
        while waiting and na < max_batch:
            i = waiting[0]
            need = L[i] + gen[i]
            if used + need + na + 1 > cap:
                break
            waiting.popleft()
            admitted[i] = None
            na += 1
            used += need
            kv_pre += need
            pre.append([i, need, need])
            if admit[i] != admit[i]:
                admit[i] = now
        # -- room for the next decode step: preempt the newest request -----------------
        while b and used + b > cap:
            v = next(reversed(admitted))
            del admitted[v]
            if pre and pre[-1][0] == v:
                e = pre.pop()
                kv_pre -= e[2]
                used -= e[2]
            else:
                _, s, P = dec.pop(v)
                b -= 1
                S -= P - s
                used -= P + G - s
                gen[v] += G - s + 1  # its prefill gave one token, each decode step one more
                if v in fresh:
                    fresh.remove(v)
            npre[v] += 1
            waiting.appendleft(v)
        if pre:
            # -- prompt tokens: a prefill-only pass (decodes wait), or with chunked
            # prefill a chunk mixed with one decode step of the running batch ------------
            if chunk is None:
                done = list(pre)
                pre.clear()
                p = sum(e[1] for e in done)
                ctx = 0
                nseq = len(done)
            else:
                done = []
                budget = chunk
                p = 0
                ctx = pre[0][2] - pre[0][1]  # tokens of the head prompt already cached
                nseq = 1
                while pre and budget > 0:
                    e = pre[0]
                    take = e[1] if e[1] < budget else budget
                    e[1] -= take
                    budget -= take
                    p += take
                    if e[1]:
                        break
                    done.append(pre.popleft())
            mixed = b > 0 and chunk is not None
            if mixed:
                dur = cost.iteration(p, b, S + b * G, ctx)
            else:
                dur = cost.prefill(p, ctx, nseq)
            now += dur
            busy += dur
            if mixed:
                G += 1
                for i in fresh:
                    step0[i] = dur
                fresh.clear()
                while heap and heap[0][0] <= G:
                    _, tk, i = heappop(heap)
                    d = dec.get(i)
                    if d is None or d[0] != tk:
                        continue
                    del dec[i]
                    del admitted[i]
                    b -= 1
                    S -= d[2] - d[1]
                    finish[i] = now
            for e in done:  # prompts done: their pass gave a token; join the decode batch
                i = e[0]
                P = e[2]
                kv_pre -= P
                if first[i] != first[i]:
                    first[i] = now
                    fresh.append(i)
                left = N[i] - gen[i] - 1  # decode steps still to run
                if left <= 0:  # that token was the last: done without a decode step
                    del admitted[i]
                    finish[i] = now
                    if i in fresh:
                        fresh.remove(i)
                        step0[i] = cost.first(b + 1, S + b * G + P)
                    continue
                tok += 1
                dec[i] = (tok, G, P)
                b += 1
                S += P - G
                heappush(heap, (G + left, tok, i))
            continue
        # -- a stretch of decode-only iterations ------------------------------------------
        while True:
            e_top, tk, i = heap[0]
            d = dec.get(i)
            if d is not None and d[0] == tk:
                break
            heappop(heap)
        kmax = e_top - G
        kv_steps = (cap - S - b * G) // b
        if kv_steps < kmax:
            kmax = kv_steps
        delta = _INF
        if ia < n and not waiting and len(admitted) < max_batch:
            delta = t_arr[ia] - now
        C = S + b * G  # total context of the batch: prompt + tokens generated so far
        if fresh:
            d1 = cost.first(b, C)
            for i in fresh:
                step0[i] = d1
            fresh.clear()
        k, T = cost.advance(b, C, kmax, delta)
        now += T
        busy += T
        G += k
        while heap and heap[0][0] <= G:
            _, tk, i = heappop(heap)
            d = dec.get(i)
            if d is None or d[0] != tk:
                continue
            del dec[i]
            del admitted[i]
            b -= 1
            S -= d[2] - d[1]
            finish[i] = now
    out["busy_s"] = busy
    return out


def _latency_cap(cost: CostModel, L0: int, N0: int, max_batch: int, cap: int,
                 tpot_target: float) -> int:
    """Largest batch whose slowest decode step (padded to the head request's lengths)
    stays within ``tpot_target`` and whose padded KV fits; at least 1."""
    kmax = max(1, min(max_batch, cap // (L0 + N0)))
    ks = np.arange(1, kmax + 1, dtype=float)
    worst = np.asarray(cost.st.decode_step_seconds(ks, ks * (L0 + N0 - 1)), dtype=float)
    bad = np.flatnonzero(~(worst <= tpot_target))
    return max(1, int(bad[0])) if bad.size else kmax


def run_request_batched(cost: CostModel, t_arr, L, N, *, max_batch: int, cap: int,
                        wait_s: float, tpot_target: float | None, max_queue: int | None,
                        max_request_tokens: int | None = None) -> dict:
    """Request-level batching (static or dynamic): a batch runs to completion before the
    next starts. Prompts are padded to the longest in the batch and every sequence decodes
    until the longest output is done (padding and early finishers still occupy the
    batch), which is what iteration-level scheduling removes.

    The server starts a batch when ``target`` requests wait or the oldest has waited
    ``wait_s``; ``target`` is ``max_batch`` (static) or, with a ``tpot_target``, the largest
    batch meeting it (dynamic). Tokens are streamed: a request's e2e ends at its own last
    token.
    """
    n = len(t_arr)
    out = _empty_state(n)
    admit, first, finish, step0 = out["admit"], out["first"], out["finish"], out["step0"]
    rejected = out["rejected"]
    waiting: deque = deque()
    now = busy = 0.0
    ia = 0
    max_q = n + 1 if max_queue is None else max_queue
    admit_cap = cap if max_request_tokens is None else min(cap, max_request_tokens)
    cap_cache: dict = {}
    busy_until = 0.0  # end of the last batch

    def arrive(until: float) -> None:
        # queue limit: max_q waiting, plus a batch's worth while the server is free
        nonlocal ia
        while ia < n and t_arr[ia] <= until:
            limit = max_q if t_arr[ia] < busy_until else max_q + max_batch
            if L[ia] + N[ia] > admit_cap or len(waiting) >= limit:
                rejected[ia] = True
            else:
                waiting.append(ia)
            ia += 1

    while True:
        arrive(now)
        if not waiting:
            if ia >= n:
                break
            now = t_arr[ia]
            continue
        target = max_batch
        if tpot_target is not None:
            h = waiting[0]
            key = (L[h], N[h])
            if key not in cap_cache:
                cap_cache[key] = _latency_cap(cost, L[h], N[h], max_batch, cap, tpot_target)
            target = cap_cache[key]
        if len(waiting) < target and ia < n:
            deadline = t_arr[waiting[0]] + wait_s
            if deadline > now:
                need = target - len(waiting)
                j, got = ia, 0
                while j < n and t_arr[j] <= deadline and got < need:
                    if L[j] + N[j] <= cap:
                        got += 1
                    j += 1
                now = t_arr[j - 1] if got == need else deadline
                arrive(now)
        k = min(target, len(waiting))
        ids = [waiting.popleft() for _ in range(k)]
        lmax = nmax = 0
        for m, i in enumerate(ids):  # largest prefix whose padded KV fits
            lm, nm = max(lmax, L[i]), max(nmax, N[i])
            if (m + 1) * (lm + nm) > cap:
                for r in reversed(ids[m:]):
                    waiting.appendleft(r)
                ids = ids[:m]
                break
            lmax, nmax = lm, nm
        k = len(ids)
        pre = cost.prefill(k * lmax, 0, k)
        t0 = now + pre
        # the prefill pass gives every sequence's first token; decode steps j = 0 .. nmax-2
        # run at per-sequence context lmax + j and give the others
        steps = cost.series(k, k * lmax, max(nmax - 1, 1))
        cum = np.concatenate(([0.0], np.cumsum(steps[:nmax - 1])))
        s0 = float(steps[0])
        for i in ids:
            admit[i] = now
            first[i] = t0
            finish[i] = t0 + float(cum[N[i] - 1])
            step0[i] = s0
        busy += pre + float(cum[-1])
        now = busy_until = t0 + float(cum[-1])  # the same sum as the last finish time
    out["busy_s"] = busy
    return out
