"""Structured verdicts for grading: one JSON line per check, appended to ``$DPO_TOY_VERDICTS``.

The grader (``python -m dpo_toy.grade``) sets the environment variable for the kernel it starts
and reads the file back; nothing is parsed from the printed text. Without the variable,
:func:`emit` does nothing, so a learner's own kernel writes no file.
"""

import json
import os

ENV = "DPO_TOY_VERDICTS"


def record(verdict):
    """The JSON-ready dict of a verdict: exercise, verdict, mistake, message."""
    return {
        "exercise": verdict.exercise,
        "verdict": verdict.status,
        "mistake": verdict.mistake,
        "message": verdict.message,
    }


def emit(verdict):
    """Append one JSON line for ``verdict`` to the file named by ``$DPO_TOY_VERDICTS``, if set.

    Returns True when a line was written. A file that cannot be written is ignored (a check
    never raises); the grader then reports the exercise as "check missing".
    """
    path = os.environ.get(ENV)
    if not path:
        return False
    line = json.dumps(record(verdict), ensure_ascii=False)
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(line + "\n")
    except OSError:
        return False
    return True
