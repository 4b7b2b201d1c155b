"""The exercise tables of README.md and notebooks/INSTRUCTORS.md, generated from the registry.

``python -m dpo_toy.course tables`` rewrites the block between the two marker comments in each
file; ``python -m dpo_toy.course tables --check`` (and a test) fails when a block is stale.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KIND_NAMES = {
    "function": "write a function",
    "prediction": "predict, then run",
    "slider": "read a slider",
    "choice": "reading (choice)",
    "derivation": "derivation",
}
GENERIC = (
    "Every function check also names, where it applies: right except on extreme inputs (unstable), "
    "per-pair values instead of the mean, one gradient of two, a negated answer, a rounded answer, "
    "a changed input, a missing `return`, complex / float16 / generator results, a wrong signature, "
    "and a time-out."
)


def _begin(name):
    return f"<!-- BEGIN GENERATED {name}: python -m dpo_toy.course tables -->"


def _end(name):
    return f"<!-- END GENERATED {name} -->"


def _stars(item):
    return "★" * int(getattr(item, "difficulty", 0) or 0)


def instructors_table():
    """One row per exercise and question: id, chapter, kind, what, difficulty, mistakes named."""
    from . import get, ids

    rows = [
        "| id | chapter | kind | what | difficulty | mistakes the check names |",
        "|---|---|---|---|---|---|",
    ]
    for i in ids():
        item = get(i)
        mistakes = ", ".join(item.mistake_names)
        rows.append(
            f"| {i} | {item.chapter:02d} | {KIND_NAMES[item.kind]} | {item.title} | {_stars(item)} | {mistakes} |"
        )
    return "\n".join([*rows, "", GENERIC])


def readme_table():
    """One row per chapter: its functions to write and its other questions, by id."""
    from . import get, ids

    rows = ["| chapter | functions to write | other questions |", "|---|---|---|"]
    for chapter in range(10):
        chapter_ids = ids(chapter)
        functions = "; ".join(f"{i} {get(i).title}" for i in chapter_ids if get(i).kind == "function")
        others = "; ".join(f"{i} {KIND_NAMES[get(i).kind]}" for i in chapter_ids if get(i).kind != "function")
        rows.append(f"| {chapter:02d} | {functions} | {others or '—'} |")
    return "\n".join(rows)


TARGETS = (("README.md", "exercises", readme_table), ("notebooks/INSTRUCTORS.md", "exercises", instructors_table))


def replace_block(text, name, content):
    """``text`` with the block between the markers of ``name`` replaced by ``content``."""
    begin, end = _begin(name), _end(name)
    if text.count(begin) != 1 or text.count(end) != 1:
        raise ValueError(f"expected one {begin!r} and one {end!r} marker")
    head, rest = text.split(begin)
    _, tail = rest.split(end)
    return f"{head}{begin}\n{content}\n{end}{tail}"


def stale(root=ROOT):
    """The files (relative paths) whose generated block differs from the registry."""
    out = []
    for path, name, make in TARGETS:
        text = (root / path).read_text(encoding="utf-8")
        if replace_block(text, name, make()) != text:
            out.append(path)
    return out


def write(root=ROOT):
    """Rewrite every generated block; return the files that changed."""
    changed = []
    for path, name, make in TARGETS:
        file = root / path
        text = file.read_text(encoding="utf-8")
        new = replace_block(text, name, make())
        if new != text:
            file.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed
