"""The course as files: the chapter map, the learner edition, and storing executed notebooks.

The solution edition (``notebooks/solutions/``) is the source. The learner edition
(``notebooks/``, what ``make lab`` opens) is made from it by replacing each block between
``# BEGIN SOLUTION`` and ``# END SOLUTION`` with a stub that raises ``NotImplementedError``, so
the checks say "not attempted yet". Both editions are stored executed for nbval.

Command line (what the Makefile calls)::

    python -m dpo_toy.course learner    # regenerate notebooks/*.ipynb from notebooks/solutions/
    python -m dpo_toy.course execute    # re-execute every notebook and store it reproducibly
    python -m dpo_toy.course map        # print the course map
    python -m dpo_toy.course workspace  # create or complete my-notebooks/ (dpo_toy.workspace)
    python -m dpo_toy.course lab        # the same, then JupyterLab rooted at my-notebooks/
    python -m dpo_toy.course tables     # regenerate the exercise tables of README and INSTRUCTORS
                                        # (--check: fail if they are stale)
"""

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from . import _execution_env

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SOLUTIONS = NOTEBOOKS / "solutions"
BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
STUB = 'raise NotImplementedError("Exercise: replace this line with your code")'


TRACKS = {
    "core": "the core path: from the objective to the DPO loss and its training",
    "side": "a side path: Bradley–Terry in depth, on chess; chapter 4 introduces what it needs without it",
    "further": "after the core: sequences, RLHF next to DPO, and TRL",
}
"""The three tracks of the course map, by :attr:`Chapter.track`."""


@dataclass(frozen=True)
class Chapter:
    """One chapter of the course: its file stem, title, the question it answers, its path and time.

    ``track`` is a key of :data:`TRACKS`; ``minutes`` is the time for a lesson in which learners run
    every cell, read the text and answer the questions (the instructors' guide uses the same).
    """

    stem: str
    title: str
    question: str
    track: str = "core"
    minutes: int = 0

    def path(self, solutions=False):
        return (SOLUTIONS if solutions else NOTEBOOKS) / f"{self.stem}.ipynb"


CHAPTERS = (
    Chapter("00_start_here", "Start here", "How does the course work, and what do the symbols mean?", "core", 20),
    Chapter(
        "01_kl_constrained_optimal_policy",
        "The KL-constrained optimal policy",
        "What is the best policy when drifting from the reference costs β per nat?",
        "core",
        60,
    ),
    Chapter(
        "02_boost_factor_table",
        "The boost-factor table",
        "How does exp(r/β) reshape π_ref, and why is Z(x) intractable?",
        "core",
        45,
    ),
    Chapter(
        "03_bradley_terry_chess",
        "Bradley–Terry on chess tournaments",
        "How do pairwise results rank players who never met?",
        "side",
        75,
    ),
    Chapter(
        "04_reward_model_loss",
        "The reward-model loss",
        "How does RLHF train its judge, and why is that logistic regression?",
        "core",
        40,
    ),
    Chapter(
        "05_z_cancellation", "The Z(x) cancellation", "Why does the intractable Z(x) never need computing?", "core", 60
    ),
    Chapter("06_dpo_loss", "The DPO loss", "What does DPO optimise, and does it reach π*?", "core", 90),
    Chapter(
        "07_sequences",
        "From tokens to sequences",
        "How are sequence log-probabilities computed, and where do implementations go wrong?",
        "further",
        75,
    ),
    Chapter(
        "08_rlhf_vs_dpo",
        "RLHF vs DPO",
        "Where do the two pipelines agree on the reward–KL frontier, and where not?",
        "further",
        50,
    ),
    Chapter(
        "09_scaling_up_with_trl",
        "Scaling up with TRL",
        "How do dpo_toy's names map onto TRL's DPOTrainer?",
        "further",
        40,
    ),
)


def course_map():
    """The course map as text: one line per chapter with its path and time, marking the ones to come."""
    lines = []
    for ch in CHAPTERS:
        status = "ready " if ch.path().exists() else "coming"
        lines.append(f"[{status}] {ch.stem:34s} {ch.track:7s} {ch.minutes:3d} min  {ch.title}: {ch.question}")
    return "\n".join(lines)


def track_summary():
    """One line per track of :data:`TRACKS`: its chapters (by number) and their total time."""
    lines = []
    for name, meaning in TRACKS.items():
        chapters = [ch for ch in CHAPTERS if ch.track == name]
        numbers = ", ".join(ch.stem[:2] for ch in chapters)
        lines.append(f"{name:7s} ({numbers}): {sum(ch.minutes for ch in chapters)} min, {meaning}")
    return "\n".join(lines)


# --- editions -------------------------------------------------------------------------------------

# `# BEGIN SOLUTION` or nbgrader's `### BEGIN SOLUTION`: any number of `#` before the delimiter.
_BLOCK = re.compile(
    r"^([ \t]*)#+ BEGIN SOLUTION(?:[ \t]+learner:[ \t]*([^\n]*))?[^\n]*\n.*?^[ \t]*#+ END SOLUTION[^\n]*(\n|$)",
    re.M | re.S,
)


def strip_solutions(source):
    """Replace every solution block in a cell's source by an indented stub.

    The stub raises ``NotImplementedError`` (a function body), unless the BEGIN line names the
    learner's line: ``# BEGIN SOLUTION learner: answer = ...`` becomes ``answer = ...``, the
    placeholder that the checks of questions (predictions, sliders, choices) call "not attempted".
    """
    return _BLOCK.sub(lambda m: f"{m.group(1)}{(m.group(2) or STUB).rstrip()}{m.group(3)}", source)


def learner_edition(solution_nb):
    """A learner-edition copy of a solution notebook (an nbformat node): stubs, no outputs."""
    import copy

    nb = copy.deepcopy(solution_nb)
    kept = []
    for cell in nb.cells:
        if "solution" in cell.metadata.get("tags", []):
            continue  # a markdown cell that discusses the answer
        if cell.cell_type == "code":
            cell.source = strip_solutions(cell.source)
            cell.outputs = []
            cell.execution_count = None
        kept.append(cell)
    nb.cells = kept
    return nb


def write_learner_editions():
    """Regenerate notebooks/*.ipynb from notebooks/solutions/*.ipynb (sources only, unexecuted)."""
    import nbformat

    written = []
    for solution in sorted(SOLUTIONS.glob("*.ipynb")):
        target = NOTEBOOKS / solution.name
        nbformat.write(learner_edition(nbformat.read(solution, as_version=4)), target)
        written.append(target)
    return written


# --- execution ------------------------------------------------------------------------------------


VOLATILE = "volatile-output"
"""Cell tag: the output (wall-clock times) is cleared before storing; run the cell to see it."""


def _merge_streams(outputs):
    """Join consecutive stdout (or stderr) chunks: how a print is split into messages varies by run."""
    merged = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            output.get("output_type") == "stream"
            and previous is not None
            and previous.get("output_type") == "stream"
            and previous.get("name") == output.get("name")
        ):
            previous["text"] += output["text"]
        else:
            merged.append(output)
    return merged


def normalise(nb):
    """Drop what changes from run to run (timings, widget ids and state) so reruns are byte-stable."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if VOLATILE in cell.metadata.get("tags", []):
            cell.outputs = []
        if "outputs" in cell:
            cell.outputs = _merge_streams(cell.outputs)
        for output in cell.get("outputs", []):
            output.get("data", {}).pop("application/vnd.jupyter.widget-view+json", None)
    return nb


def execute(path, timeout=120, attempts=2):
    """Execute one notebook in its folder and store it normalised. Retries once on a kernel hang."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    path = Path(path)
    for attempt in range(1, attempts + 1):
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            record_timing=False,
            resources={"metadata": {"path": str(path.parent)}},
        )
        try:
            client.execute()
            break
        except (TimeoutError, DeadKernelError) as exc:
            if attempt == attempts:
                raise RuntimeError(f"{path.name}: kernel hung or died {attempts} times ({exc})") from exc
            print(f"{path.name}: {type(exc).__name__}, retrying", file=sys.stderr)
    nbformat.write(normalise(nb), path)
    return path


APP = ROOT / "app"
"""The classroom explorer (``make app``): a dashboard notebook, stored executed like the chapters."""


def all_notebooks():
    """Every stored notebook: learner edition, solution edition (in course order), then the app."""
    return sorted(NOTEBOOKS.glob("*.ipynb")) + sorted(SOLUTIONS.glob("*.ipynb")) + sorted(APP.glob("*.ipynb"))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    command = argv[0] if argv else "map"
    _execution_env.pin()  # kernels started below compute what the stored outputs show, on any x86-64 CPU
    if command == "map":
        print(course_map())
        print(track_summary())
    elif command == "learner":
        for path in write_learner_editions():
            print(f"learner edition: {path.relative_to(ROOT)}")
            execute(path)
    elif command == "execute":
        paths = [Path(p) for p in argv[1:]] or all_notebooks()
        for path in paths:
            print(f"executing {path}", flush=True)
            execute(path)
    elif command in ("workspace", "lab"):
        from .workspace import main as workspace_main

        workspace_main(command, argv[1:])
    elif command == "tables":
        from .exercises import stale_tables, write_tables

        if "--check" in argv[1:]:
            if stale_tables():
                raise SystemExit(
                    f"stale exercise tables in {', '.join(stale_tables())}: run `python -m dpo_toy.course tables`"
                )
        else:
            for path in write_tables():
                print(f"tables rewritten: {path}")
    else:
        raise SystemExit(f"unknown command {command!r}; use one of: map, learner, execute, tables, workspace, lab")


if __name__ == "__main__":
    main()
