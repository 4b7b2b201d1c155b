"""The setup files agree: environment.yml and the pip dependencies, the lock file and torch's pin."""

import re
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
CONDA_NAMES = {"pytorch-cpu": "torch"}  # conda-forge name -> PyPI name
CONDA_SPEC = re.compile(r"^(?P<name>[A-Za-z0-9_.\-]+)\s*(?P<version>(==?|>=|<=|>|<|!=)[^\s]+)?$")


def _pyproject_names():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = project["dependencies"] + [s for extra in project["optional-dependencies"].values() for s in extra]
    return {Requirement(s).name.lower() for s in specs}


def _environment():
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def test_environment_yml_is_well_formed():
    """conda-forge only, python=3.11, every spec parses, and a pip section installs the package."""
    env = _environment()
    assert env["channels"] == ["conda-forge"]
    deps = env["dependencies"]
    assert "python=3.11" in deps
    pip_sections = [dep["pip"] for dep in deps if isinstance(dep, dict)]
    assert len(pip_sections) == 1 and "-e ." in pip_sections[0]
    assert "pip" in deps
    for dep in deps:
        if isinstance(dep, str):
            assert CONDA_SPEC.match(dep.replace(",", "")), f"unparsable conda spec {dep!r}"
    for spec in pip_sections[0]:
        if spec != "-e .":
            Requirement(spec)


def test_environment_yml_names_the_same_packages_as_pyproject():
    """Every pip dependency (all extras) is in environment.yml, and nothing else is."""
    names = set()
    for dep in _environment()["dependencies"]:
        if isinstance(dep, dict):
            names |= {Requirement(s).name.lower() for s in dep["pip"] if s != "-e ."}
        elif dep not in ("pip",) and not dep.startswith("python="):
            name = CONDA_SPEC.match(dep.replace(",", "")).group("name").lower()
            names.add(CONDA_NAMES.get(name, name))
    assert names == _pyproject_names()


def test_environment_yml_uses_the_cpu_pytorch():
    """On conda-forge the CPU build is pytorch-cpu; a bare pytorch may pull CUDA."""
    deps = [d for d in _environment()["dependencies"] if isinstance(d, str)]
    assert any(d.startswith("pytorch-cpu") for d in deps)
    assert not any(re.match(r"pytorch(\s|[<>=]|$)", d) for d in deps)


def test_lock_pins_every_dependency_exactly_and_torch_to_2_13_0():
    """requirements-lock.txt has one exact pin per package, covers pyproject's names, torch==2.13.0."""
    pins = {}
    for line in (ROOT / "requirements-lock.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            req = Requirement(line)
            spec = str(req.specifier)
            assert spec.startswith("==") and "," not in spec, f"not an exact pin: {line}"
            pins[req.name.lower().replace("_", "-")] = spec
    assert pins["torch"] == "==2.13.0"
    missing = {n.replace("_", "-") for n in _pyproject_names()} - set(pins)
    assert not missing, f"not in the lock: {missing}"


def test_extra_wheel_index_is_empty_by_default_and_passed_to_pip_when_set():
    """make's install adds --extra-index-url only when EXTRA_INDEX_URL is set; the README names the CPU index."""
    import subprocess

    cpu = "https://download.pytorch.org/whl/cpu"

    def dry_run(*assignments):  # -n: print the recipe, run nothing; -B: as if the venv were out of date
        return subprocess.run(["make", "-n", "-B", "setup", *assignments], cwd=ROOT, capture_output=True, text=True)

    assert "--extra-index-url" not in dry_run().stdout
    assert f"--extra-index-url={cpu}" in dry_run(f"EXTRA_INDEX_URL={cpu}").stdout
    assert f"EXTRA_INDEX_URL={cpu}" in (ROOT / "README.md").read_text()


def test_no_module_imports_another_modules_private_names():
    """Modules share private helpers only through private modules (``_validation``, ``_numerics``, ...)."""
    import ast

    package = ROOT / "dpo_toy"
    offences = []
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        siblings = set()  # names bound to public sibling modules: `from . import losses`
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level >= 1:
                source = (node.module or "").split(".")[-1]
                for alias in node.names:
                    if node.module is None and not alias.name.startswith("_"):
                        siblings.add(alias.asname or alias.name)
                    elif alias.name.startswith("_") and source and not source.startswith("_"):
                        offences.append(f"{path.name}: from .{node.module} import {alias.name}")
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in siblings
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                offences.append(f"{path.name}: {node.value.id}.{node.attr}")
    assert offences == []
