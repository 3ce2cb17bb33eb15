"""`scalelab calibrate`: measure this machine (GEMMs over shapes, memory bandwidth, attention,
all-reduce/all-gather among local processes) and write a hardware profile for the analytic model.
"""
