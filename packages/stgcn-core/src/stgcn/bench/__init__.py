"""The benchmarking layer behind ``stgcn bench``: the timed steps (:mod:`.timing`), the
throughput run (:mod:`.measure`), the data loading run (:mod:`.data`), the matmul peak
and the reference network's work (:mod:`.peak`), the plain fp32 baseline network
(:mod:`.baseline`) and the reference process (:mod:`.reference`).

It imports the training step from the training layer and everything below it; reports
and commands above import it. Nothing here is imported by training.
"""
