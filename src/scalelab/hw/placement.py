"""Heterogeneous placement: list-schedule an operator graph over devices joined by links with HEFT
(Topcuoglu, Hariri & Wu, IEEE TPDS 2002): ops by decreasing upward rank, each to the device giving
the earliest finish (insertion into idle gaps), with transfer times and optional pins. Weights stay
resident, so a memory-admission pass first decides which ops may use each device's memory.
Link contention is not modeled (as in HEFT)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache, partial

from scalelab.core.errors import InfeasiblePlan
from scalelab.hw.devices import Device, Machine
from scalelab.hw.opgraph import Op, OpGraph


@dataclass(frozen=True)
class Baseline:
    """Everything on one device: its time, and whether the resident weights fit there."""

    device: str
    makespan_s: float
    fits: bool


@dataclass(frozen=True)
class Placement:
    """A schedule of one step. Times in seconds from the step start."""

    assignment: dict[str, str]
    start_s: dict[str, float]
    finish_s: dict[str, float]
    makespan_s: float
    busy_s: dict[str, float]
    utilization_frac: dict[str, float]
    memory_used_bytes: dict[str, float]
    transfer_s: float  # summed duration of all cross-device transfers
    num_transfers: int
    tokens: int
    baselines: tuple[Baseline, ...]

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.makespan_s

    @property
    def best_single_device_s(self) -> float | None:
        fitting = [b.makespan_s for b in self.baselines if b.fits]
        return min(fitting) if fitting else None


def _usable(dev: Device, machine: Machine) -> float:
    return dev.memory_bytes * (1.0 - machine.memory_reserve_frac)


def _upward_ranks(graph: OpGraph, machine: Machine) -> dict[str, float]:
    """rank_u(n) = mean cost of n + max over successors (mean transfer + rank_u(s)) (TPDS'02 eq. 7)."""
    dtype = graph.weight_dtype
    ops = {o.name: o for o in graph.ops}
    succ = graph.successors()
    bw = [v[0] for v in machine.links.values()] or [math.inf]
    lat = [v[1] for v in machine.links.values()] or [0.0]
    mean_bw, mean_lat = sum(bw) / len(bw), sum(lat) / len(lat)

    @cache
    def rank(name: str) -> float:
        op = ops[name]
        cost = sum(d.op_time_s(op, dtype) for d in machine.devices) / len(machine.devices)
        comm = mean_lat + op.out_bytes / mean_bw if len(machine.devices) > 1 else 0.0
        return cost + max((comm + rank(s) for s in succ[name]), default=0.0)

    for o in reversed(graph.ops):  # fill the cache bottom-up: no deep recursion on long chains
        rank(o.name)
    return {o.name: rank(o.name) for o in graph.ops}


def _earliest_start(busy: list[tuple[float, float]], ready: float, duration: float) -> float:
    """First start >= ready where [start, start + duration) fits between busy intervals."""
    start = ready
    for s, f in busy:
        if start + duration <= s:
            return start
        start = max(start, f)
    return start


def _time_on(devs: dict[str, Device], op: Op, dtype: str, name: str) -> float:
    return devs[name].op_time_s(op, dtype)


def _admission(graph: OpGraph, machine: Machine) -> dict[str, set[str]]:
    """Devices each op may use. Pins first; then, where the ops that run fastest on a device
    overflow its memory, keep those saving the most time per resident byte against their next-best
    device (a greedy knapsack) and bar the rest, so early ops cannot squat on fast memory."""
    devs = {d.name: d for d in machine.devices}
    dt = graph.weight_dtype
    allowed = {
        o.name: {n for n in devs if machine.pins.get(o.kind) in (None, n)} for o in graph.ops
    }
    for _ in range(len(devs)):
        best = {
            o.name: min(allowed[o.name], key=partial(_time_on, devs, o, dt))
            for o in graph.ops
            if allowed[o.name]
        }
        changed = False
        for name, dev in devs.items():
            here = [o for o in graph.ops if best.get(o.name) == name]
            if sum(o.weight_bytes for o in here) <= _usable(dev, machine):
                continue

            def saving_per_byte(o: Op, dev: Device = dev) -> float:
                alt = min(
                    (devs[n].op_time_s(o, dt) for n in allowed[o.name] if n != dev.name),
                    default=math.inf,
                )
                return (alt - dev.op_time_s(o, dt)) / max(o.weight_bytes, 1.0)

            room = _usable(dev, machine)
            for o in sorted(here, key=saving_per_byte, reverse=True):
                if o.weight_bytes <= room:
                    room -= o.weight_bytes
                elif len(allowed[o.name]) > 1:
                    allowed[o.name].discard(name)
                    changed = True
        if not changed:
            break
    return allowed


def _candidates(
    op: Op, machine: Machine, mem_used: dict[str, float], allowed: set[str]
) -> list[Device]:
    return [
        d
        for d in machine.devices
        if d.name in allowed and mem_used[d.name] + op.weight_bytes <= _usable(d, machine)
    ]


def schedule(graph: OpGraph, machine: Machine) -> Placement:
    """HEFT schedule of `graph` on `machine`; InfeasiblePlan if some op fits on no device."""
    ops = {o.name: o for o in graph.ops}
    ranks = _upward_ranks(graph, machine)
    order = sorted(graph.ops, key=lambda o: -ranks[o.name])
    allowed = _admission(graph, machine)
    where: dict[str, str] = {}
    start: dict[str, float] = {}
    finish: dict[str, float] = {}
    busy: dict[str, list[tuple[float, float]]] = {d.name: [] for d in machine.devices}
    mem_used = {d.name: 0.0 for d in machine.devices}
    for op in order:
        best: tuple[float, int, float, Device] | None = None
        for rank_i, dev in enumerate(_candidates(op, machine, mem_used, allowed[op.name])):
            ready = max(
                (
                    finish[p] + machine.transfer_s(ops[p].out_bytes, where[p], dev.name)
                    for p in op.deps
                ),
                default=0.0,
            )
            dur = dev.op_time_s(op, graph.weight_dtype)
            s = _earliest_start(busy[dev.name], ready, dur)
            moves = sum(1 for p in op.deps if where[p] != dev.name)
            key = (s + dur, moves, rank_i)
            if math.isfinite(s + dur) and (best is None or key < (best[0], best[1], best[2])):
                best = (s + dur, moves, float(rank_i), dev)
        if best is None:
            raise InfeasiblePlan(
                f"op {op.name} ({op.weight_bytes / 1e9:,.1f} GB of weights) fits on no "
                f"reachable device: add memory, devices or links, or relax pins"
            )
        dev = best[3]
        where[op.name], finish[op.name] = dev.name, best[0]
        start[op.name] = best[0] - dev.op_time_s(op, graph.weight_dtype)
        busy[dev.name] = sorted([*busy[dev.name], (start[op.name], finish[op.name])])
        mem_used[dev.name] += op.weight_bytes
    return _summarize(graph, machine, where, start, finish, mem_used)


def _summarize(
    graph: OpGraph,
    machine: Machine,
    where: dict[str, str],
    start: dict[str, float],
    finish: dict[str, float],
    mem_used: dict[str, float],
) -> Placement:
    ops = {o.name: o for o in graph.ops}
    makespan = max(finish.values())
    busy_s = {
        d.name: sum(finish[n] - start[n] for n in where if where[n] == d.name)
        for d in machine.devices
    }
    transfers = [
        machine.transfer_s(ops[p].out_bytes, where[p], where[o.name])
        for o in graph.ops
        for p in o.deps
        if where[p] != where[o.name]
    ]
    return Placement(
        where,
        start,
        finish,
        makespan,
        busy_s,
        {k: v / makespan for k, v in busy_s.items()},
        mem_used,
        sum(transfers),
        len(transfers),
        graph.tokens,
        single_device_baselines(graph, machine),
    )


def single_device_baselines(graph: OpGraph, machine: Machine) -> tuple[Baseline, ...]:
    """Each device running the whole graph alone (a chain: sum of op times)."""
    out = []
    for d in machine.devices:
        t = sum(d.op_time_s(o, graph.weight_dtype) for o in graph.ops)
        out.append(Baseline(d.name, t, graph.total_weight_bytes <= _usable(d, machine)))
    return tuple(out)
