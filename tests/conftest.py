"""Fixtures several test files share."""

import os

import pytest


@pytest.fixture(scope="session")
def built_site(tmp_path_factory):
    """The course site (solutions edition, static sliders on), built once per test run: ``(folder, pages)``.

    ``test_site`` and ``test_site_browser`` both read it, and pytest-xdist may run them in different
    workers: the first worker to ask builds it in the run's shared temporary folder while holding a
    lock, and the other reads it (a full build takes 10-15 s here). Tests must not write into it.
    """
    from filelock import FileLock

    from dpo_toy import site

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the folder all workers of this run share
    out = root / "built_site"
    done = out / ".pages"
    with FileLock(f"{out}.lock"):
        if not done.exists():
            pages = site.build(out)
            done.write_text("\n".join(p.name for p in pages), encoding="utf-8")
    return out, [out / name for name in done.read_text(encoding="utf-8").splitlines()]
