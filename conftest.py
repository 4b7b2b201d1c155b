"""pytest set-up for the whole checkout (unit tests, nbval notebooks, the app): one thread for PyTorch.

The course's models are tiny (a 21k-parameter GRU, a 2-layer Llama 32 wide, tables of 4 logits), so
PyTorch's intra-op threads buy nothing, and on a shared 2-core machine they cost a great deal:
measured under load, a step of chapter 4's reward-model loop took 18 ms with 2 threads and 1.4 ms
with 1, and chapter 7's pretraining 4× longer; the results were identical to the bit. Kernels that
nbval starts inherit this environment. NumPy's BLAS keeps its own thread count (OPENBLAS_NUM_THREADS
would otherwise fall back to OMP_NUM_THREADS), so no NumPy result changes. Set either variable
yourself to override.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", str(os.cpu_count() or 1))
os.environ.setdefault("OMP_NUM_THREADS", "1")
