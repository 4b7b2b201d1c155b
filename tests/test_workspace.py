"""The learner's workspace: nothing a maintainer command or an update does can destroy an answer."""

import datetime
import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request

import nbformat
import pytest

from dpo_toy import course, site
from dpo_toy import workspace as ws
from dpo_toy.course import NOTEBOOKS, ROOT, SOLUTIONS, STUB

CHAPTER = "00_start_here.ipynb"
ANSWER = "    shifted = logits - np.max(logits)  # my answer\n    w = np.exp(shifted)\n    return w / w.sum()"
TODAY = datetime.date(2026, 11, 30)


def _course_copy(tmp_path, names=(CHAPTER,)):
    """A repository layout in tmp_path: notebooks/ and notebooks/solutions/ holding the given chapters."""
    (tmp_path / "notebooks" / "solutions").mkdir(parents=True)
    (tmp_path / "app").mkdir()
    for name in names:
        shutil.copy(NOTEBOOKS / name, tmp_path / "notebooks" / name)
        shutil.copy(SOLUTIONS / name, tmp_path / "notebooks" / "solutions" / name)
    return tmp_path / "notebooks"


def _answer(path):
    """Write an answer into the first exercise stub of a notebook, as a learner in JupyterLab would."""
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and STUB in c.source)
    cell.source = cell.source.replace(f"    {STUB}", ANSWER)
    nbformat.write(nb, path)
    return path.read_bytes()


def _files(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def test_maintainer_commands_leave_the_answer_byte_identical(tmp_path, monkeypatch):
    """Workspace, an answer, then learner regeneration, execution and the site build: the answer survives."""
    notebooks = _course_copy(tmp_path)
    monkeypatch.setattr(course, "ROOT", tmp_path)
    monkeypatch.setattr(course, "NOTEBOOKS", notebooks)
    monkeypatch.setattr(course, "SOLUTIONS", notebooks / "solutions")
    monkeypatch.setattr(course, "APP", tmp_path / "app")
    mine = tmp_path / "my-notebooks"
    assert ws.update(mine, notebooks, today=TODAY).added == (CHAPTER,)
    answered = _answer(mine / CHAPTER)

    course.main(["learner"])  # make learner
    course.main(["execute"])  # make notebooks
    site.build(out=tmp_path / "build" / "site")  # make html
    assert (tmp_path / "build" / "site" / "00_start_here.html").exists()

    report = ws.update(mine, notebooks, today=TODAY)
    assert (mine / CHAPTER).read_bytes() == answered
    assert report.added == report.changed == report.refreshed == ()


@pytest.mark.parametrize("target", ["learner", "notebooks", "test", "unit", "html", "lint", "bench", "clean", "app"])
def test_no_maintainer_target_names_the_workspace(target):
    """What make would run for each maintainer target never mentions my-notebooks (so cannot touch it)."""
    out = subprocess.run(["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() and "my-notebooks" not in out


def test_a_deleted_chapter_comes_back_and_nothing_else_moves(tmp_path):
    """Delete a chapter from the workspace: the step copies it back and leaves the other files alone."""
    notebooks = _course_copy(tmp_path, names=(CHAPTER, "05_z_cancellation.ipynb"))
    mine = tmp_path / "my-notebooks"
    ws.update(mine, notebooks, today=TODAY)
    answered = _answer(mine / CHAPTER)
    (mine / "05_z_cancellation.ipynb").unlink()
    report = ws.update(mine, notebooks, today=TODAY)
    assert report.added == ("05_z_cancellation.ipynb",)
    assert (mine / "05_z_cancellation.ipynb").read_bytes() == (notebooks / "05_z_cancellation.ipynb").read_bytes()
    assert (mine / CHAPTER).read_bytes() == answered


def _change_upstream(path):
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source += "\n\nA sentence added to the course after the learner's copy was made."
    nbformat.write(nb, path)


def test_an_upstream_change_is_reported_and_the_copy_left_alone(tmp_path):
    """A chapter changed in the course: reported (with whether it was edited), the learner's bytes kept."""
    notebooks = _course_copy(tmp_path, names=(CHAPTER, "05_z_cancellation.ipynb"))
    mine = tmp_path / "my-notebooks"
    ws.update(mine, notebooks, today=TODAY)
    answered = _answer(mine / CHAPTER)
    untouched = (mine / "05_z_cancellation.ipynb").read_bytes()
    for name in (CHAPTER, "05_z_cancellation.ipynb"):
        _change_upstream(notebooks / name)

    for _ in range(2):  # it keeps saying so until the learner acts
        report = ws.update(mine, notebooks, today=TODAY)
        assert report.changed == (CHAPTER, "05_z_cancellation.ipynb")
        assert report.edited == (CHAPTER,)
        assert "make workspace REFRESH=00" in report.text() and "REFRESH=05" in report.text()
    assert (mine / CHAPTER).read_bytes() == answered
    assert (mine / "05_z_cancellation.ipynb").read_bytes() == untouched


def test_refresh_keeps_a_dated_backup_and_deletes_nothing(tmp_path):
    """REFRESH=00 saves the learner's copy under a dated name, then takes the course's version."""
    notebooks = _course_copy(tmp_path)
    mine = tmp_path / "my-notebooks"
    ws.update(mine, notebooks, today=TODAY)
    answered = _answer(mine / CHAPTER)
    _change_upstream(notebooks / CHAPTER)
    before = _files(mine)

    report = ws.update(mine, notebooks, refresh="00", today=TODAY)
    backup = "00_start_here.mine-2026-11-30.ipynb"
    assert report.refreshed == ((CHAPTER, backup),)
    assert (mine / backup).read_bytes() == answered
    assert (mine / CHAPTER).read_bytes() == (notebooks / CHAPTER).read_bytes()
    assert ws.update(mine, notebooks, today=TODAY).changed == ()  # the new version is now the recorded one

    second = _answer(mine / CHAPTER)
    report = ws.update(mine, notebooks, refresh="0", today=TODAY)  # same day: a second backup, not over the first
    assert report.refreshed == ((CHAPTER, "00_start_here.mine-2026-11-30-2.ipynb"),)
    after = _files(mine)
    assert (mine / backup).read_bytes() == answered and after[report.refreshed[0][1]] == second
    assert set(before) <= set(after), "a file disappeared"


def test_refresh_names_the_argument_when_the_chapter_does_not_exist(tmp_path):
    """A chapter number that is not in the course is a ValueError naming REFRESH; nothing is written."""
    notebooks = _course_copy(tmp_path)
    with pytest.raises(ValueError, match=r"REFRESH='42'.*expected a number"):
        ws.update(tmp_path / "my-notebooks", notebooks, refresh="42")
    with pytest.raises(TypeError, match="refresh must be a string"):
        ws.parse_refresh(6, [CHAPTER])
    assert not (tmp_path / "my-notebooks").exists()


def test_an_unreadable_copy_is_never_replaced(tmp_path):
    """A copy that is no longer valid JSON (conflict markers) counts as edited and stays as it is."""
    notebooks = _course_copy(tmp_path)
    mine = tmp_path / "my-notebooks"
    ws.update(mine, notebooks, today=TODAY)
    broken = b"<<<<<<< HEAD\n{}\n=======\n>>>>>>> origin/main\n"
    (mine / CHAPTER).write_bytes(broken)
    _change_upstream(notebooks / CHAPTER)
    report = ws.update(mine, notebooks, today=TODAY)
    assert report.edited == (CHAPTER,) and (mine / CHAPTER).read_bytes() == broken


def test_content_hash_ignores_outputs_but_not_sources(tmp_path):
    """Re-executing (other outputs) keeps the hash; editing a source changes it."""
    path = tmp_path / "a.ipynb"
    nb = nbformat.read(NOTEBOOKS / CHAPTER, as_version=4)
    nbformat.write(nb, path)
    first = ws.content_hash(path)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.write(nb, path)
    assert ws.content_hash(path) == first
    nb.cells[-1].source += "\n# a learner's note"
    nbformat.write(nb, path)
    assert ws.content_hash(path) != first


def test_the_workspace_is_git_ignored():
    """git check-ignore accepts any file under my-notebooks/."""
    subprocess.run(["git", "check-ignore", "-q", "my-notebooks/anything.ipynb"], cwd=ROOT, check=True)


def _git(cwd, *args):
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@t", GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")  # fmt: skip
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout


def test_git_pull_succeeds_on_a_clone_with_a_worked_in_workspace(tmp_path):
    """Upstream commits a new chapter version; the learner's clone pulls it cleanly and keeps the answer."""
    upstream = tmp_path / "upstream"
    notebooks = _course_copy(upstream)
    shutil.copy(ROOT / ".gitignore", upstream / ".gitignore")
    _git(upstream, "init", "-q", "-b", "main")
    _git(upstream, "add", ".")
    _git(upstream, "commit", "-q", "-m", "course")
    clone = tmp_path / "clone"
    _git(tmp_path, "clone", "-q", str(upstream), str(clone))

    mine = clone / "my-notebooks"
    ws.update(mine, clone / "notebooks", today=TODAY)
    answered = _answer(mine / CHAPTER)
    assert _git(clone, "status", "--porcelain") == "", "the workspace must not show up in git status"

    _change_upstream(notebooks / CHAPTER)
    _git(upstream, "commit", "-q", "-am", "chapter 0, new version")
    _git(clone, "pull", "-q", "--ff-only")
    assert (clone / "notebooks" / CHAPTER).read_bytes() == (notebooks / CHAPTER).read_bytes()
    assert (mine / CHAPTER).read_bytes() == answered
    assert ws.update(mine, clone / "notebooks", today=TODAY).changed == (CHAPTER,)


def test_make_lab_and_workspace_go_through_the_workspace_step():
    """make lab and make workspace run ``python -m dpo_toy.course lab|workspace`` with REFRESH passed on."""
    for target in ("lab", "workspace"):
        out = subprocess.run(["make", "-n", target, "REFRESH=06"], cwd=ROOT, capture_output=True, text=True).stdout
        assert f'-m dpo_toy.course {target} --refresh="06"' in out, out
    assert "--ServerApp.root_dir=" + str(ws.WORKSPACE) in ws.lab_command()


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def test_jupyterlab_of_the_lab_target_serves_no_solutions(tmp_path):
    """JupyterLab started with ``make lab``'s command lists the chapters and cannot reach solutions/."""
    from servers import free_port, jupyter_env, serve

    notebooks = _course_copy(tmp_path / "repo", names=(CHAPTER, "05_z_cancellation.ipynb"))
    mine = tmp_path / "repo" / "my-notebooks"
    ws.update(mine, notebooks)
    port, token = free_port(), "dpo-toy-workspace-test"
    command = ws.lab_command(mine, ["--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
                                    f"--ServerApp.token={token}"])  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with serve("JupyterLab", command, f"{url}/api/status?token={token}", tmp_path, jupyter_env(tmp_path)):
        status, body = _get(f"{url}/api/contents?token={token}")
        names = {item["name"] for item in json.loads(body)["content"]}
        assert status == 200 and names == {CHAPTER, "05_z_cancellation.ipynb"}
        for path in ("api/contents/solutions", "api/contents/..%2Fnotebooks%2Fsolutions",
                     "api/contents/../notebooks/solutions", f"files/../notebooks/solutions/{CHAPTER}",
                     f"files/..%2Fnotebooks%2Fsolutions%2F{CHAPTER}"):  # fmt: skip
            status, _ = _get(f"{url}/{path}?token={token}")
            assert status in (400, 403, 404), f"{path} answered {status}"
        lab_page = _get(f"{url}/lab/tree/{CHAPTER}?token={token}")
        assert lab_page[0] == 200, "the default URL (chapter 0) opens"


def test_binder_postbuild_runs_the_workspace_step_and_the_url_opens_chapter_0():
    """postBuild is executable and runs the workspace step; README and guide give the Binder URL into it."""
    postbuild = ROOT / "postBuild"
    assert os.access(postbuild, os.X_OK)
    lines = [line for line in postbuild.read_text().splitlines() if line and not line.startswith("#")]
    assert "python -m dpo_toy.course workspace" in lines
    for doc in (ROOT / "README.md", NOTEBOOKS / "INSTRUCTORS.md"):
        assert f"urlpath=lab/tree/my-notebooks/{CHAPTER}" in doc.read_text(), doc.name


def test_readme_chapter_0_and_guide_say_where_work_lives():
    """README, INSTRUCTORS.md and chapter 0 (both editions) name my-notebooks/ and the REFRESH step."""
    chapter0 = [
        "".join(c.source) for p in (NOTEBOOKS / CHAPTER, SOLUTIONS / CHAPTER) for c in nbformat.read(p, 4).cells
    ]
    for name, text in [("README", (ROOT / "README.md").read_text()),
                       ("INSTRUCTORS", (NOTEBOOKS / "INSTRUCTORS.md").read_text()),
                       ("chapter 0", "\n".join(chapter0))]:  # fmt: skip
        assert "my-notebooks/" in text and "never overwritten" in text and "REFRESH=" in text, name
    readme = (ROOT / "README.md").read_text()
    for step in (
        "conda env create -f environment.yml",
        "python -m dpo_toy.course workspace",
        "jupyter lab my-notebooks",
    ):
        assert step in readme, step


def test_workspace_cli_reports_and_rejects_bad_refresh(tmp_path):
    """The command line prints the report, and a bad REFRESH exits with a message naming it."""
    run = [sys.executable, "-m", "dpo_toy.course", "workspace", f"--workspace={tmp_path / 'w'}"]
    out = subprocess.run(run, capture_output=True, text=True, check=True).stdout
    assert "Copied in: 00_start_here.ipynb" in out and (tmp_path / "w" / CHAPTER).exists()
    bad = subprocess.run([*run, "--refresh=99"], capture_output=True, text=True)
    assert bad.returncode != 0 and "REFRESH='99'" in bad.stderr


def test_readme_migration_from_notebooks_keeps_the_answer_and_pulls(tmp_path):
    """A learner who answered in notebooks/ (before the workspace) follows the README's steps: nothing lost."""
    upstream = tmp_path / "upstream"
    notebooks = _course_copy(upstream)
    shutil.copy(ROOT / ".gitignore", upstream / ".gitignore")
    _git(upstream, "init", "-q", "-b", "main")
    _git(upstream, "add", ".")
    _git(upstream, "commit", "-q", "-m", "course")
    clone = tmp_path / "clone"
    _git(tmp_path, "clone", "-q", str(upstream), str(clone))
    answered = _answer(clone / "notebooks" / CHAPTER)  # the old way: straight into the learner edition
    _change_upstream(notebooks / CHAPTER)
    _git(upstream, "commit", "-q", "-am", "chapter 0, new version")

    assert "cp -n notebooks/*.ipynb my-notebooks/" in (ROOT / "README.md").read_text()
    mine = clone / "my-notebooks"
    mine.mkdir()
    shutil.copy(clone / "notebooks" / CHAPTER, mine / CHAPTER)
    _git(clone, "checkout", "--", "notebooks/")
    assert ws.update(mine, clone / "notebooks", today=TODAY).adopted == (CHAPTER,)
    _git(clone, "pull", "-q", "--ff-only")
    report = ws.update(mine, clone / "notebooks", today=TODAY)
    assert report.changed == (CHAPTER,) and report.edited == (CHAPTER,)
    assert (mine / CHAPTER).read_bytes() == answered
