"""The scripts beside the library (experiments/ and benchmarks/, every .py file in them) import without doing any
work and answer --help, so that none rots silently while the library changes under it; and none of them reaches
for a private library name (one starting with "_"), which the library may change without notice."""
import ast
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted((ROOT / "experiments").glob("*.py")) + sorted((ROOT / "benchmarks").glob("*.py"))


def script_id(path):
    return f"{path.parent.name}/{path.name}"


def load_script(path, monkeypatch):
    """The script as a module, imported as `python experiments/NAME.py` runs it: its own folder first on sys.path,
    so that its helpers (experiments/record_results.py) import."""
    monkeypatch.syspath_prepend(str(path.parent))
    spec = importlib.util.spec_from_file_location(f"script_{path.parent.name}_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def is_private(name):
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_library_names(source):
    """The private minigpt names a script's source uses: `from minigpt... import _x`, a private module in an
    import, and attribute access such as `zoo._x` or `zoo.SHIPPED["sft"]._x` on a name bound by a minigpt import."""
    tree = ast.parse(source)
    library, found = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "minigpt":
                    library.add(alias.asname or "minigpt")
                    found += [alias.name] if any(is_private(part) for part in alias.name.split(".")) else []
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "minigpt":
            found += [node.module] if any(is_private(part) for part in node.module.split(".")) else []
            for alias in node.names:
                found += [f"{node.module}.{alias.name}"] if is_private(alias.name) else []
                library.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and is_private(node.attr):
            root = node.value
            while isinstance(root, (ast.Attribute, ast.Subscript, ast.Call)):
                root = root.func if isinstance(root, ast.Call) else root.value
            if isinstance(root, ast.Name) and root.id in library:
                found.append(ast.unparse(node))
    return found


def test_the_scripts_are_found():
    names = {script_id(path) for path in SCRIPTS}
    assert {"benchmarks/run.py", "benchmarks/ppo_step_cost.py", "experiments/record_results.py"} <= names
    assert len([name for name in names if name.startswith("experiments/")]) > 1


@pytest.mark.parametrize("path", SCRIPTS, ids=script_id)
def test_script_imports_without_work_and_answers_help(path, monkeypatch, capsys):
    module = load_script(path, monkeypatch)
    # a main() that parsed sys.argv instead of its argv would stop at this unknown option, with code 2
    monkeypatch.setattr(sys, "argv", [str(path), "--not-an-option-of-any-script"])
    with pytest.raises(SystemExit) as stopped:
        module.main(["--help"])
    assert stopped.value.code == 0
    assert "usage:" in capsys.readouterr().out


@pytest.mark.parametrize("path", SCRIPTS, ids=script_id)
def test_script_uses_no_private_library_name(path):
    assert private_library_names(path.read_text(encoding="utf-8")) == []


def test_private_names_are_found_in_imports_and_attribute_access():
    source = """
import minigpt.zoo as z
from minigpt import zoo, tinyworld
from minigpt.zoo import _fine_tuned, load
from minigpt._internal import thing
zoo._fine_tuned(1, 2)
zoo.SHIPPED["sft"]._train(3)
load("sft")[0]._hidden
z._cache
tinyworld.__name__
other._private
"""
    assert sorted(private_library_names(source)) == sorted([
        "minigpt.zoo._fine_tuned", "minigpt._internal", "zoo._fine_tuned", "zoo.SHIPPED['sft']._train",
        "load('sft')[0]._hidden", "z._cache"])


def library_calls_that_do_not_bind(source):
    """Each call in a script to a minigpt function (a name imported from minigpt, or an attribute of an imported
    minigpt module, such as zoo.comparisons) whose arguments its signature would refuse: too many positional ones,
    or a keyword it does not take. --help never runs these calls, so this is what catches them."""
    import importlib
    import inspect

    tree, bound = ast.parse(source), {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "minigpt":
            module = importlib.import_module(node.module)
            for alias in node.names:  # a function, or a submodule (from minigpt import zoo)
                try:
                    found = getattr(module, alias.name)
                except AttributeError:
                    found = importlib.import_module(f"{node.module}.{alias.name}")
                bound[alias.asname or alias.name] = found
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "minigpt" and alias.asname:
                    bound[alias.asname] = importlib.import_module(alias.name)
    refused = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or any(isinstance(a, ast.Starred) for a in node.args):
            continue
        if any(k.arg is None for k in node.keywords):  # **options: not checkable here
            continue
        f, target = node.func, None
        if isinstance(f, ast.Name):
            target = bound.get(f.id)
        elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and inspect.ismodule(bound.get(f.value.id)):
            target = getattr(bound[f.value.id], f.attr, None)
        if target is None or inspect.ismodule(target) or not callable(target):
            continue
        try:
            inspect.signature(target).bind(*node.args, **{k.arg: None for k in node.keywords})
        except TypeError as err:
            refused.append(f"line {node.lineno}: {ast.unparse(node.func)}: {err}")
        except ValueError:  # a builtin without a signature
            continue
    return refused


def test_a_call_the_signature_refuses_is_found():
    source = "from minigpt import zoo\nfrom minigpt.reward import sample_comparisons\n" \
             "zoo.comparisons(m, 'train', labeler, 6)\nsample_comparisons(m, t, items, labeler, seed=1)\n" \
             "zoo.comparisons(m, 'train', labeler, rounds=6, colour=1)\n"
    refused = library_calls_that_do_not_bind(source)
    assert len(refused) == 2 and "line 3" in refused[0] and "line 5" in refused[1]


@pytest.mark.parametrize("path", SCRIPTS, ids=script_id)
def test_script_calls_the_library_as_its_signatures_allow(path, monkeypatch):
    monkeypatch.syspath_prepend(str(path.parent))
    assert library_calls_that_do_not_bind(path.read_text(encoding="utf-8")) == []
