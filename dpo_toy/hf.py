"""The old name of :mod:`dpo_toy.trl_bridge`, kept for notebooks saved before the rename.

A learner's copy of chapter 9 in ``my-notebooks/`` is never overwritten, so one saved before the
rename still says ``from dpo_toy import hf``. It keeps running, with a warning that names the new
module; the course itself imports ``dpo_toy.trl_bridge``.
"""

import sys
import warnings

from . import trl_bridge

warnings.warn(
    "dpo_toy.hf is now dpo_toy.trl_bridge (the same functions): write `from dpo_toy import trl_bridge`",
    FutureWarning,
    stacklevel=2,
)
sys.modules[__name__] = trl_bridge
