"""Scale-out network topologies at their largest size for a switch radix: endpoints, switches,
links, cost, bisection, hops. Counts follow the papers each builder cites; cost follows
`netcost.CostModel` (the Slim Fly methodology as used by Zhao et al. ISCA'25 Table 3)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from scalelab.core.errors import ConfigError
from scalelab.core.specs import canonical_topology
from scalelab.hw.netcost import CostModel

# Port-to-port latency of one switch (or router chip) hop. ASSUMPTION: third-party pages report
# 150-400 ns for NVIDIA Quantum-2 (NDR) cut-through; 300 ns is used.
SWITCH_HOP_LATENCY_S = 300e-9


@dataclass(frozen=True)
class Topology:
    """One network at its maximal size. `num_links` counts switch-to-switch (router-to-router)
    links only, as Zhao et al. ISCA'25 Table 3 does; endpoint cables are excluded from cost."""

    name: str
    switch_radix: int
    planes: int
    link_bytes_per_s: float  # per link, per direction
    num_endpoints: int
    num_switches: int
    num_links: int
    cost_usd: float
    bisection_bytes_per_s: float  # per direction, across the worst balanced cut
    injection_bytes_per_s_per_endpoint: float
    uniform_bytes_per_s_per_endpoint: float  # sustainable under uniform all-to-all traffic
    diameter_switches: int  # switches (or router chips) on the longest shortest path
    params: dict[str, int] = field(default_factory=dict)
    note: str = ""

    @property
    def cost_per_endpoint_usd(self) -> float:
        return self.cost_usd / self.num_endpoints

    @property
    def oversubscription_ratio(self) -> float:
        """Injection over what uniform all-to-all traffic can sustain (1 = non-blocking)."""
        return self.injection_bytes_per_s_per_endpoint / self.uniform_bytes_per_s_per_endpoint

    @property
    def bisection_ratio(self) -> float:
        """Bisection over half the endpoints' injection (1 = full bisection bandwidth)."""
        return self.bisection_bytes_per_s / (
            0.5 * self.num_endpoints * self.injection_bytes_per_s_per_endpoint
        )

    @property
    def diameter_latency_s(self) -> float:
        return self.diameter_switches * SWITCH_HOP_LATENCY_S


# Bounds of the builders' inputs: the largest switch ASICs have 512 ports (e.g. 512 x 100G on a
# 51.2 Tbit/s chip) and real tori tens of chips per dimension, so 1024 leaves room while keeping
# the slim-fly search (O(radix^2) with --prime-power-only) instant; planes and line rates alike.
MAX_RADIX = 1024
MAX_PLANES = 1024
MAX_LINK_GBIT_PER_S = 1e6


def _even_radix(radix: int, name: str) -> None:
    if radix < 4 or radix % 2:
        raise ConfigError(f"{name}: --radix must be an even number >= 4, got {radix}")


def fat_tree_2(radix: int, link_bytes_per_s: float, cost: CostModel, planes: int = 1) -> Topology:
    """Two-level leaf-spine Clos of k-port switches: k leaves, k/2 spines, k^2/2 endpoints,
    k*k/2 leaf-spine links, full bisection (Al-Fares et al. SIGCOMM'08 Sec 2.2, two tiers).
    `planes` independent copies form the multi-plane fat-tree (Zhao et al. ISCA'25 Sec 5.1.1)."""
    _even_radix(radix, "fat-tree-2")
    k, b = radix, link_bytes_per_s
    endpoints, switches, links = planes * k * k // 2, planes * (k + k // 2), planes * k * (k // 2)
    name = "multi-plane-fat-tree" if planes > 1 else "fat-tree-2"
    return Topology(
        name,
        k,
        planes,
        b,
        endpoints,
        switches,
        links,
        cost.network_usd(switches, links, k, b),
        0.5 * endpoints * b,
        b,
        b,
        3,
        {"leaves": planes * k, "spines": planes * k // 2},
    )


def fat_tree_3(radix: int, link_bytes_per_s: float, cost: CostModel, planes: int = 1) -> Topology:
    """k-ary three-level fat-tree (Al-Fares et al. SIGCOMM'08 Sec 2.2): k pods of k/2 edge +
    k/2 aggregation switches, (k/2)^2 core; k^3/4 endpoints; k^3/2 switch links; full bisection."""
    _even_radix(radix, "fat-tree-3")
    k, b = radix, link_bytes_per_s
    endpoints, switches, links = planes * k**3 // 4, planes * 5 * k * k // 4, planes * k**3 // 2
    return Topology(
        "fat-tree-3",
        k,
        planes,
        b,
        endpoints,
        switches,
        links,
        cost.network_usd(switches, links, k, b),
        0.5 * endpoints * b,
        b,
        b,
        5,
        {"pods": k, "core": planes * k * k // 4},
    )


def _is_prime_power(q: int) -> bool:
    p = next(d for d in range(2, q + 1) if q % d == 0)
    while q % p == 0:
        q //= p
    return q == 1


def slim_fly_q(radix: int, prime_power_only: bool = False) -> tuple[int, int, int]:
    """(q, network radix k', endpoints per router p) for the largest MMS slim fly: q = 4w + delta,
    k' = (3q - delta)/2, p = ceil(k'/2), k' + p <= radix (Besta & Hoefler SC'14 Sec 2.1-2.2)."""
    best = None
    for q in range(3, radix + 1):
        delta = {0: 0, 1: 1, 3: -1}.get(q % 4)
        if delta is None or (prime_power_only and not _is_prime_power(q)):
            continue
        net_radix = (3 * q - delta) // 2
        p = math.ceil(net_radix / 2)
        if net_radix + p <= radix:
            best = (q, net_radix, p)
    if best is None:
        raise ConfigError(f"slim-fly: radix {radix} is too small")
    return best


def slim_fly(
    radix: int, link_bytes_per_s: float, cost: CostModel, prime_power_only: bool = False
) -> Topology:
    """MMS slim fly, diameter 2: 2q^2 routers of network radix k', p endpoints each.
    Uniform traffic: average router distance 2 - k'/(Nr-1) and p = ceil(k'/2) give channel load
    <= 1 ("full global bandwidth", Besta & Hoefler SC'14 Sec 3.1). Bisection is estimated as half
    the links (expected cut of a balanced random partition: an estimate, not a proven bound)."""
    q, kp, p = slim_fly_q(radix, prime_power_only)
    b, routers = link_bytes_per_s, 2 * q * q
    links, endpoints = routers * kp // 2, routers * p
    avg_dist = 2 - kp / (routers - 1)  # k' neighbours at distance 1, the rest at 2
    uniform = b * min(1.0, kp / (p * avg_dist))
    note = (
        ""
        if _is_prime_power(q)
        else (
            f"q={q} is not a prime power, so no MMS graph exists; Zhao et al. Table 3 uses it anyway"
        )
    )
    return Topology(
        "slim-fly",
        radix,
        1,
        b,
        endpoints,
        routers,
        links,
        cost.network_usd(routers, links, radix, b),
        0.5 * links * b,
        b,
        uniform,
        3,
        {"q": q, "network_radix": kp, "endpoints_per_router": p},
        note,
    )


def dragonfly(radix: int, link_bytes_per_s: float, cost: CostModel) -> Topology:
    """Balanced dragonfly (Kim et al. ISCA'08 Sec 3.1): a = 2p = 2h, radix >= p + h + a - 1,
    g = a*h + 1 groups, all-to-all local links inside a group, one global link per group pair.
    Minimal routing crosses local, global, local: 4 routers. Bisection: the floor(g/2)*ceil(g/2)
    global links between two halves of the groups."""
    p = (radix + 1) // 4
    if p < 1:
        raise ConfigError(f"dragonfly: radix {radix} is too small")
    a, h = 2 * p, p
    g = a * h + 1
    b, switches = link_bytes_per_s, a * g
    links = g * (a * (a - 1) // 2) + g * a * h // 2
    endpoints = p * switches
    uniform = b * min(1.0, (a * h) / (a * p * (g - 1) / g))  # global-link load per group
    return Topology(
        "dragonfly",
        radix,
        1,
        b,
        endpoints,
        switches,
        links,
        cost.network_usd(switches, links, radix, b),
        (g // 2) * (g - g // 2) * b,
        b,
        uniform,
        4,
        {"p": p, "a": a, "h": h, "groups": g},
    )


def torus(k: int, dims: int, link_bytes_per_s: float, cost: CostModel) -> Topology:
    """k-ary n-cube with wraparound (TPU v4/v5p ICI is a 3D torus): N = k^n chips, each a router
    with 2n links. Bisection 2*k^(n-1) links; uniform-traffic channel load k/8 (k even) gives
    8b/k per node (Dally & Towles, Principles and Practices of Interconnection Networks, Sec 3.3);
    diameter n*floor(k/2) link hops. No switches: cost is links only."""
    if k < 2:
        raise ConfigError(f"torus: --radix (nodes per dimension) must be >= 2, got {k}")
    b, n_nodes = link_bytes_per_s, k**dims
    links = dims * n_nodes if k > 2 else dims * n_nodes // 2
    injection = 2 * dims * b
    uniform = min(injection, 8 * b / k)
    bisection = (2 if k > 2 else 1) * k ** (dims - 1) * b
    diameter = dims * (k // 2)
    return Topology(
        f"torus-{dims}d",
        k,
        1,
        b,
        n_nodes,
        0,
        links,
        cost.network_usd(0, links, 0, b),
        bisection,
        injection,
        uniform,
        diameter,
        {"k": k, "dims": dims},
        "radix = nodes per dimension; each chip is a router, one router pass per link hop",
    )


def canonical_name(name: str) -> str:
    """The canonical topology name for `name` or an alias; ConfigError naming the known ones."""
    try:
        return canonical_topology(name)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def build_topology(
    name: str,
    radix: int = 64,
    planes: int = 1,
    link_gbit_per_s: float = 400.0,
    cost: CostModel | None = None,
    prime_power_only: bool = False,
) -> Topology:
    """The largest `name` network of `radix`-port switches (torus: `radix` nodes per dimension)."""
    key = canonical_name(name)
    if not 2 <= radix <= MAX_RADIX:
        raise ConfigError(f"--radix must be in 2..{MAX_RADIX}, got {radix}")
    if not 1 <= planes <= MAX_PLANES:
        raise ConfigError(f"--planes must be in 1..{MAX_PLANES}, got {planes}")
    if not 0 < link_gbit_per_s <= MAX_LINK_GBIT_PER_S:  # NaN fails this too
        raise ConfigError(
            f"--link-gbit must be > 0 and <= {MAX_LINK_GBIT_PER_S:g}, got {link_gbit_per_s}"
        )
    b, c = link_gbit_per_s * 1e9 / 8, cost or CostModel()
    builders: dict[str, Callable[[], Topology]] = {
        "fat-tree-2": lambda: fat_tree_2(radix, b, c, planes),
        "multi-plane-fat-tree": lambda: fat_tree_2(radix, b, c, planes if planes > 1 else 8),
        "fat-tree-3": lambda: fat_tree_3(radix, b, c, planes),
        "slim-fly": lambda: slim_fly(radix, b, c, prime_power_only),
        "dragonfly": lambda: dragonfly(radix, b, c),
        "torus-2d": lambda: torus(radix, 2, b, c),
        "torus-3d": lambda: torus(radix, 3, b, c),
    }
    return builders[key]()


def compare_topologies(
    radix: int = 64, link_gbit_per_s: float = 400.0, planes: int = 8
) -> list[Topology]:
    """The five switched topologies of Zhao et al. ISCA'25 Table 3 at one radix and line rate."""
    names = ("fat-tree-2", "multi-plane-fat-tree", "fat-tree-3", "slim-fly", "dragonfly")
    return [
        build_topology(n, radix, planes if n == "multi-plane-fat-tree" else 1, link_gbit_per_s)
        for n in names
    ]
