"""Network cost: a price per switch port and per switch-to-switch link, both proportional to the
line rate (Besta & Hoefler SC'14 Sec 6.1 fit router cost linearly in radix and cable cost
linearly in Gb/s). The 400G prices are derived from Zhao et al. ISCA'25 Table 3, see below."""

from __future__ import annotations

from dataclasses import dataclass

REFERENCE_LINK_BYTES_PER_S = 400e9 / 8  # 400 Gbit/s: the line rate of ISCA'25 Table 3

# Derived, not looked up: Table 3 gives FT2 = 96 switches + 2,048 links = $9.0M and
# FT3 = 5,120 switches + 131,072 links = $491M for 64-port 400G switches. Solving the two
# equations (64 x FT2 - FT3 removes the links): switch = (64 * 9.0M - 491M) / (64 * 96 - 5,120)
# = 85M / 1,024 = $83,008
# (= $1,297 per port) and link = (9.0M - 96 * 83,008) / 2,048 = $503.5. Slim fly ($146M)
# and dragonfly ($1,522M) are then predictions: see tests/golden/test_network_energy_cases.py.
USD_PER_SWITCH_PORT_400G = 85e6 / 1024 / 64
USD_PER_LINK_400G = (9.0e6 - 96 * 85e6 / 1024) / 2048


@dataclass(frozen=True)
class CostModel:
    """Switch and link prices at the reference line rate; other rates scale linearly
    (ASSUMPTION for switches: port price proportional to port speed)."""

    usd_per_switch_port: float = USD_PER_SWITCH_PORT_400G
    usd_per_link: float = USD_PER_LINK_400G
    reference_link_bytes_per_s: float = REFERENCE_LINK_BYTES_PER_S

    def switch_usd(self, radix: int, link_bytes_per_s: float) -> float:
        """One switch of `radix` ports at `link_bytes_per_s` per port."""
        return radix * self.usd_per_switch_port * link_bytes_per_s / self.reference_link_bytes_per_s

    def link_usd(self, link_bytes_per_s: float) -> float:
        """One switch-to-switch cable (optics included) at `link_bytes_per_s`."""
        return self.usd_per_link * link_bytes_per_s / self.reference_link_bytes_per_s

    def network_usd(
        self, num_switches: int, num_links: int, radix: int, link_bytes_per_s: float
    ) -> float:
        """Switches plus switch-to-switch links; endpoint NICs and cables excluded (as Table 3)."""
        return num_switches * self.switch_usd(radix, link_bytes_per_s) + num_links * self.link_usd(
            link_bytes_per_s
        )
