"""Reuse a trainer's result within one test run: off unless ``DPO_TOY_RUN_CACHE`` names a folder.

nbval runs both editions of every chapter, and the learner edition trains the same models on the
same data with the same seeds as the solution edition. ``conftest.py`` sets the variable to a fresh
temporary folder for each pytest run, for notebook kernels only (never for the unit tests, where a
cached answer could stand in for the computation a test checks). The first call of a trainer in
the run computes and stores its result; an identical call later reads it back.

Identical means: the same function, the same package source, and arguments with the same
contents (arrays, tensors and models by their bytes, dataclasses and plain objects field by field).
An argument that cannot be fingerprinted (a callable, say) makes the call compute as usual.

Only trainers whose result depends on their arguments alone are wrapped: each either uses no
randomness or seeds its own (``torch.manual_seed(seed)``). Their one side effect, the global torch
generator they leave behind, is stored with the result and restored on a hit, so code that draws
from it afterwards sees what it would have seen.
"""

import dataclasses
import functools
import hashlib
import inspect
import os
import pickle
import sys
from pathlib import Path

import numpy as np

ENV = "DPO_TOY_RUN_CACHE"
_PACKAGE = Path(__file__).resolve().parent


class _Unkeyable(Exception):
    """An argument whose contents cannot be fingerprinted."""


@functools.lru_cache(maxsize=1)
def _source_digest():
    """A digest of every module of the package, so a changed trainer never reads an old result."""
    h = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*.py")):
        h.update(path.relative_to(_PACKAGE).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _feed(h, value):
    """Feed ``value``'s type and contents to the hash ``h``."""
    h.update(type(value).__qualname__.encode() + b"\0")
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        h.update(repr(value).encode())
    elif isinstance(value, np.ndarray):
        h.update(f"{value.dtype.str}{value.shape}".encode())
        h.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, (list, tuple)):
        h.update(str(len(value)).encode())
        for item in value:
            _feed(h, item)
    elif isinstance(value, dict):
        h.update(str(len(value)).encode())
        for key in sorted(value, key=repr):
            _feed(h, key)
            _feed(h, value[key])
    elif "torch" in sys.modules and _feed_torch(h, value):
        pass
    elif dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            _feed(h, getattr(value, field.name))
    elif type(value).__module__.startswith("dpo_toy") and hasattr(value, "__dict__"):
        _feed(h, vars(value))
    else:
        raise _Unkeyable(type(value).__qualname__)


def _feed_torch(h, value):
    """Tensors by dtype, shape and bytes; modules by class, mode and parameters. False for anything else."""
    import torch

    if isinstance(value, torch.Tensor):
        _feed(h, (str(value.dtype), tuple(value.shape), value.requires_grad))
        h.update(value.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
        return True
    if isinstance(value, torch.nn.Module):
        _feed(h, (repr(value), value.training))
        for name, tensor in value.state_dict().items():
            _feed(h, name)
            _feed(h, tensor)
        for p in value.parameters():
            h.update(b"g" if p.requires_grad else b"-")
        return True
    return False


def _key(fn, arguments):
    h = hashlib.sha256(f"{fn.__module__}.{fn.__qualname__}\0{_source_digest()}".encode())
    _feed(h, arguments)
    return h.hexdigest()[:32]


def reused_within_run(*, reseeds_torch):
    """Wrap a trainer so that, when ``DPO_TOY_RUN_CACHE`` is set, an identical call reuses the result.

    ``reseeds_torch``: the trainer starts with ``torch.manual_seed(seed)``, so the global torch
    generator it leaves behind depends on its arguments alone; it is stored and restored on a hit.
    A trainer that draws nothing from torch's generator leaves it untouched, and so does a hit.
    """

    def wrap(fn):
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            folder = os.environ.get(ENV)
            if not folder:
                return fn(*args, **kwargs)
            try:
                bound = signature.bind(*args, **kwargs)
                bound.apply_defaults()
                if bound.arguments.get("seed", 0) is None:
                    raise _Unkeyable("seed=None: fresh randomness every call")
                key = _key(fn, bound.arguments)
            except (TypeError, _Unkeyable):  # (a TypeError: the trainer itself names the wrong argument)
                return fn(*args, **kwargs)
            path = Path(folder) / f"{fn.__module__}.{fn.__qualname__}-{key}.pickle"
            if path.exists():
                result, rng = pickle.loads(path.read_bytes())
                if reseeds_torch:
                    sys.modules["torch"].set_rng_state(rng)
                return result
            result = fn(*args, **kwargs)
            rng = sys.modules["torch"].get_rng_state() if reseeds_torch else None
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
            partial.write_bytes(pickle.dumps((result, rng)))
            os.replace(partial, path)  # atomic: a kernel running beside this one never reads half a file
            return result

        return wrapper

    return wrap
