"""Hardware architecture: scale-out topologies and their cost (topology, netcost, scaleout), emerging
device classes (emerging*), and heterogeneous placement (opgraph, devices, placement)."""
