"""The set-up promises of the README: one dependency list, torch pinned to the tested version, and the
commands the README names are the ones the Makefile and CI run."""
import re
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent


def pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def normalized(requirements):
    return {Requirement(r).name.lower(): str(Requirement(r).specifier) for r in requirements}


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    project = pyproject()
    expected = normalized(project["dependencies"] + project["optional-dependencies"]["dev"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = normalized([r for r in pip_section if not r.startswith("-e")])
    assert listed == expected
    assert "-e ." in pip_section
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    version = python.split("=")[-1]
    assert Requirement(f"python=={version}").specifier.contains("3.11")


def test_torch_is_constrained_to_the_tested_cpu_build():
    torch_req = next(Requirement(r) for r in pyproject()["dependencies"] if r.startswith("torch"))
    assert torch_req.specifier.contains("2.13.0")
    assert not torch_req.specifier.contains("2.14.0"), "a newer torch would download gigabytes of CUDA packages"


def test_readme_commands_are_the_ones_ci_and_make_run():
    readme = (ROOT / "README.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    for target in ("course", "test", "lab", "exercises", "bench"):
        assert f"make {target}" in readme, target
        assert re.search(rf"^{target}:", makefile, re.M), target
    ci = [line for line in (ROOT / ".ci/run").read_text().splitlines() if line and not line.startswith("#")]
    assert ci[-1] == "make test"
