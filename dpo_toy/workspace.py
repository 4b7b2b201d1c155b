"""The learner's workspace, ``my-notebooks/``: a copy of the course that only the learner writes to.

``make workspace`` (or ``python -m dpo_toy.course workspace``) copies each chapter of the learner
edition (``notebooks/*.ipynb``) into ``my-notebooks/`` when it is not there yet, and never
overwrites or deletes a file that is. ``make lab`` does the same, then opens JupyterLab rooted at
``my-notebooks/``, so the solution edition is not served. The folder is git-ignored: ``git pull``
and every maintainer command (``make learner``, ``make notebooks``, ``make html``, ``make test``)
leave it alone.

A small manifest, ``my-notebooks/.course-versions.json``, remembers which version of each chapter
was copied (a hash of its cells' types and sources; outputs do not count, so re-executing the
course changes nothing). When the course's version of a chapter changes, the step says so and
leaves the learner's copy as it is; ``make workspace REFRESH=06`` then keeps the learner's copy
beside it under a dated name (``06_dpo_loss.mine-2026-11-30.ipynb``) and copies the new version.
"""

import datetime
import hashlib
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from .course import NOTEBOOKS, ROOT

WORKSPACE = ROOT / "my-notebooks"
MANIFEST = ".course-versions.json"
FIRST_CHAPTER = "00_start_here.ipynb"


def content_hash(path):
    """SHA-256 of a notebook's cell types and sources (not outputs); None if it is not a notebook.

    Re-executing a chapter changes its outputs but not this hash, so only an edit of the text or
    the code counts as a new version.
    """
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
        cells = [(c["cell_type"], _joined(c.get("source", ""))) for c in nb["cells"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None  # unreadable, or not valid notebook JSON (e.g. merge conflict markers)
    return hashlib.sha256(json.dumps(cells, ensure_ascii=False).encode("utf-8")).hexdigest()


def _joined(source):
    return "".join(source) if isinstance(source, list) else source


@dataclass(frozen=True)
class Report:
    """What one workspace step did and found (file names relative to the workspace)."""

    workspace: Path
    added: tuple = ()
    refreshed: tuple = ()  # (chapter, backup) pairs
    changed: tuple = ()  # chapters with a new course version, the learner's copy untouched
    edited: tuple = ()  # the subset of ``changed`` whose sources the learner has edited
    adopted: tuple = ()  # copies found without a record of their course version

    def text(self):
        """What to tell the learner, in a few lines."""
        lines = [f"Your workspace: {self.workspace} (your files there are never overwritten or deleted)."]
        if self.added:
            lines.append(f"Copied in: {', '.join(self.added)}.")
        for chapter, backup in self.refreshed:
            lines.append(f"Took the course's new {chapter}; your copy is kept as {backup}.")
        for name in self.adopted:
            lines.append(f"{name}: no record of the course version it came from; recorded the current one.")
        for name in self.changed:
            mine = "you have edited your copy" if name in self.edited else "you have not edited your copy"
            number = name.split("_", 1)[0]
            lines.append(
                f"{name} has a new version in the course ({mine}; it is left as it is). To take it: "
                f"make workspace REFRESH={number}  (or python -m dpo_toy.course workspace --refresh {number}); "
                "your copy is kept beside it under a dated name."
            )
        if not (self.added or self.refreshed or self.changed):
            lines.append("Every chapter is there and up to date.")
        return "\n".join(lines)


def _read_manifest(workspace):
    path = workspace / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return dict(data["chapters"])
    except FileNotFoundError:
        return {}
    except (ValueError, KeyError, TypeError):
        print(f"warning: {path} is unreadable; starting a new one", file=sys.stderr)
        return {}


def _write_manifest(workspace, chapters):
    path = workspace / MANIFEST
    tmp = path.with_name(path.name + ".tmp")
    body = {
        "about": "Which course version of each chapter was copied here (dpo_toy.workspace). Safe to delete.",
        "chapters": dict(sorted(chapters.items())),
    }
    tmp.write_text(json.dumps(body, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)  # the manifest is ours; the learner's notebooks are never replaced like this


def _copy_new(source, target):
    """Copy bytes to a file that must not exist yet (mode "x": fails rather than overwrite)."""
    data = Path(source).read_bytes()
    with open(target, "xb") as out:
        out.write(data)


def _backup_name(workspace, name, today):
    stem = name[: -len(".ipynb")]
    candidate = f"{stem}.mine-{today.isoformat()}.ipynb"
    n = 2
    while (workspace / candidate).exists():
        candidate = f"{stem}.mine-{today.isoformat()}-{n}.ipynb"
        n += 1
    return candidate


def parse_refresh(refresh, names):
    """The chapter files named by ``refresh``: numbers ("06", "6"), stems or "all", comma or space separated."""
    if refresh is None or refresh == "":
        return []
    if not isinstance(refresh, str):
        raise TypeError(f"refresh must be a string such as '06' or '03,06', got {type(refresh).__name__}")
    chosen = []
    for token in re.split(r"[,\s]+", refresh.strip()):
        if token == "all":
            return list(names)
        if token.isdigit():
            matches = [n for n in names if n.split("_", 1)[0].isdigit() and int(n.split("_", 1)[0]) == int(token)]
        else:
            matches = [n for n in names if n in (token, f"{token}.ipynb")]
        if not matches:
            raise ValueError(
                f"REFRESH={refresh!r}: no chapter {token!r} in the course; expected a number such as "
                f"06, a name, or 'all' (chapters: {', '.join(n.split('_', 1)[0] for n in names)})"
            )
        chosen += [m for m in matches if m not in chosen]
    return chosen


def update(workspace=WORKSPACE, course=NOTEBOOKS, refresh=None, today=None):
    """Create or complete the workspace; with ``refresh``, take the course's version of those chapters.

    Parameters
    ----------
    workspace : path
        The learner's folder (``my-notebooks/`` by default); created if missing.
    course : path
        The folder of the learner edition, ``notebooks/`` (its ``*.ipynb``, not its subfolders).
    refresh : str, optional
        Chapters to replace by the course's version, e.g. ``"06"`` or ``"03,06"``. The learner's copy
        is first saved beside it as ``NN_name.mine-YYYY-MM-DD.ipynb`` (never over an existing file).
    today : datetime.date, optional
        The date used in backup names (default: today).

    Returns
    -------
    Report
        What was added, refreshed, and which chapters have a newer course version.
    """
    workspace, course = Path(workspace), Path(course)
    names = sorted(p.name for p in course.glob("*.ipynb"))
    if not names:
        raise ValueError(f"course: no notebooks in {course}; expected the learner edition's *.ipynb")
    to_refresh = parse_refresh(refresh, names)
    today = today or datetime.date.today()
    workspace.mkdir(parents=True, exist_ok=True)
    manifest = _read_manifest(workspace)
    added, refreshed, changed, edited, adopted = [], [], [], [], []
    for name in names:
        source, target = course / name, workspace / name
        current = content_hash(source)
        if name in to_refresh and target.exists():
            backup = _backup_name(workspace, name, today)
            _copy_new(target, workspace / backup)  # the learner's bytes, saved before anything else
            tmp = workspace / f".{name}.new"
            tmp.write_bytes(source.read_bytes())
            os.replace(tmp, target)  # the only replacement of a learner file: after its backup exists
            refreshed.append((name, backup))
        elif not target.exists():
            _copy_new(source, target)
            added.append(name)
        elif name not in manifest:
            adopted.append(name)
        else:
            recorded = manifest[name].get("course")
            if recorded != current:
                changed.append(name)
                if content_hash(target) != recorded:
                    edited.append(name)
            continue  # the record stays: the copy is still of the version it names
        manifest[name] = {"course": current, "copied": today.isoformat()}
    _write_manifest(workspace, manifest)
    return Report(workspace, tuple(added), tuple(refreshed), tuple(changed), tuple(edited), tuple(adopted))


def lab_command(workspace=WORKSPACE, extra=()):
    """The JupyterLab command ``make lab`` runs: rooted at the workspace, opening chapter 0."""
    return [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={Path(workspace)}",
        f"--LabApp.default_url=/lab/tree/{FIRST_CHAPTER}",
        *extra,
    ]


def main(command, argv):
    """``python -m dpo_toy.course workspace [--refresh NN]`` and ``... lab [--refresh NN] [jupyter args]``."""
    import argparse
    import subprocess

    parser = argparse.ArgumentParser(prog=f"python -m dpo_toy.course {command}", allow_abbrev=False)
    parser.add_argument("--refresh", default="", help="chapters to take anew, e.g. 06 or 03,06 (yours is kept)")
    parser.add_argument("--workspace", default=str(WORKSPACE), help="the learner's folder (default: my-notebooks)")
    args, extra = parser.parse_known_args(argv)
    if extra and command != "lab":
        parser.error(f"unexpected arguments: {' '.join(extra)}")
    try:
        report = update(Path(args.workspace), refresh=args.refresh)
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from None
    print(report.text(), flush=True)
    if command == "lab":
        command_line = lab_command(args.workspace, [a for a in extra if a != "--"])
        if os.name == "posix":  # become JupyterLab, so Ctrl+C and its shutdown prompt work as usual
            os.execv(command_line[0], command_line)
        raise SystemExit(subprocess.call(command_line))
