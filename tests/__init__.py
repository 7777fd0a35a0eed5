"""The test suite. Set here, before any test module loads numpy:

OpenBLAS's threads spin after each call before they sleep. On 2 cores shared by two xdist
workers and the processes the tests start, that spinning was most of the CPU time of every test
that trains a model (a 1/50 slice of the built-in corpus: 45 s of CPU, 4 s with the shortest
spin). The threads and how they split each sum are unchanged, so the results are bit for bit the
same (the shipped model still rebuilds byte for byte). Inherited by the xdist workers and every
process a test starts.
"""

import os

os.environ["OPENBLAS_THREAD_TIMEOUT"] = os.environ.get("OPENBLAS_THREAD_TIMEOUT") or "4"  # the shortest spin allowed
