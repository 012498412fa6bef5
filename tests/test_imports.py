"""minigpt's modules import each other in one direction: no circles.

A circle (model imports pretrained, pretrained imports model) works only while one of the two
imports hides inside a function, and it makes the modules impossible to read bottom-up. The graph
here is read from the source with `ast`, independently of Python's import machinery: every import
of a minigpt module, at module level or inside a function, relative (`from .model import GPT`) or
absolute (`import minigpt.model`). `from . import grammar` counts as an import of the submodule
grammar when that is a module, and as an import of the package's __init__ otherwise. A package's
__init__ is not counted as imported by its own submodules (Python runs it first, but it is the
package's table of contents, not something the submodule uses).
"""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "minigpt"


def module_files(root=PACKAGE):
    """{dotted module name: path} for every .py file of the package; a package is named by its __init__."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def imported_modules(name, path, modules):
    """The minigpt modules that module `name` (at `path`) imports, anywhere in its source."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: one dot is the module's own package, each further dot goes up one
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            else:
                base = node.module
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in modules else base)
    return {m for m in found if m in modules and m != name}


def import_graph(root=PACKAGE):
    modules = module_files(root)
    return {name: imported_modules(name, path, modules) for name, path in modules.items()}


def find_cycle(graph):
    """One cycle as a list of modules [a, b, ..., a], or None; depth-first search with three colours."""
    state, stack = {}, []  # state: 1 while on the current path, 2 when finished

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_find_cycle_reports_a_lazy_import_circle():
    graph = {"minigpt.model": {"minigpt.pretrained"}, "minigpt.pretrained": {"minigpt.checkpoint", "minigpt.model"},
             "minigpt.checkpoint": {"minigpt.model"}}
    cycle = find_cycle(graph)
    assert cycle[0] == cycle[-1] and "minigpt.pretrained" in cycle
    assert all(b in graph[a] for a, b in zip(cycle, cycle[1:])), cycle
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_imports_inside_functions_and_from_dot_import_count(tmp_path):
    root = tmp_path / "minigpt"
    (root / "sub").mkdir(parents=True)
    (root / "__init__.py").write_text("from . import model\n")
    (root / "model.py").write_text("def load():\n    from .sub import loader\n")
    (root / "sub" / "__init__.py").write_text("")
    (root / "sub" / "loader.py").write_text("from .. import model\nimport minigpt.sub\n")
    graph = import_graph(root)
    assert graph == {"minigpt": {"minigpt.model"}, "minigpt.model": {"minigpt.sub.loader"}, "minigpt.sub": set(),
                     "minigpt.sub.loader": {"minigpt.model", "minigpt.sub"}}
    assert find_cycle(graph) == ["minigpt.model", "minigpt.sub.loader", "minigpt.model"]


def test_minigpt_has_no_import_cycle():
    graph = import_graph()
    assert "minigpt.model" in graph and "minigpt.tinyworld.world" in graph  # the walk found the package
    cycle = find_cycle(graph)
    assert cycle is None, (
        "import circle: " + " -> ".join(cycle) + ". Move what the lower module needs into it (or into a module "
        "both can import), so that imports point one way; an import inside a function is a circle too."
    )


def reachable(graph, module):
    """Every module that importing `module` imports, directly or through others."""
    seen, todo = set(), [module]
    while todo:
        for nxt in graph[todo.pop()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    return seen


ZOO_STAGES = ("shipped", "pretraining", "instruct", "rlhf", "chat", "scaling")  # minigpt/zoo/, in the chain's order


def test_the_zoo_stages_import_only_the_stages_before_them():
    graph = import_graph()
    stages = {f"minigpt.zoo.{name}" for name in ZOO_STAGES}
    assert stages | {"minigpt.zoo"} == {m for m in graph if m.startswith("minigpt.zoo")}, "a zoo module not in the list"
    for n, name in enumerate(ZOO_STAGES):
        module = f"minigpt.zoo.{name}"
        later = {f"minigpt.zoo.{s}" for s in ZOO_STAGES[n:]} | {"minigpt.zoo"}
        assert not graph[module] & later, f"{module} imports {sorted(graph[module] & later)}: an arrow back up the chain"
        if name != "shipped":
            docstring = ast.get_docstring(ast.parse(module_files()[module].read_text(encoding="utf-8")))
            assert "starts from" in docstring, f"{module}'s docstring does not say which model the stage starts from"


def test_the_command_line_and_the_dialogue_checker_do_not_import_ppo_or_the_zoo():
    graph = import_graph()
    for module in ("minigpt.cli", "minigpt.checks.dialogue", "minigpt.course_tokenizer"):
        assert not {m for m in reachable(graph, module) if m == "minigpt.ppo" or m.startswith("minigpt.zoo")}, module
