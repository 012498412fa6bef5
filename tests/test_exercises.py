"""exercises/ is generated from solutions/ by tools/make_exercises.py, and kept in step with it."""
import importlib.util
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS, EXERCISES = ROOT / "solutions", ROOT / "exercises"
TOOL_PATH = ROOT / "tools" / "make_exercises.py"


def _load_tool():
    spec = importlib.util.spec_from_file_location("make_exercises", TOOL_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _load_tool()


def solution_region_lines(source):
    """Lines strictly inside answer regions that do not also occur outside them."""
    inside, outside, in_region = set(), set(), False
    for line in source.split("\n"):
        if line.strip() in (tool.BEGIN, tool.END):
            in_region = line.strip() == tool.BEGIN
        elif line.strip():
            (inside if in_region else outside).add(line.strip())
    return inside - outside


def small_solution_notebook():
    code = new_code_cell(
        "def f(x):\n"
        '    """Docstring."""\n'
        "    ### BEGIN SOLUTION\n"
        "    y = x + 1\n"
        "    return y\n"
        "    ### END SOLUTION\n"
        "\n"
        "\n"
        "class A:\n"
        "    def g(self):\n"
        "        ### BEGIN SOLUTION\n"
        "        return 2\n"
        "        ### END SOLUTION",
        id="answer",
        execution_count=3,
        outputs=[new_output("stream", name="stdout", text="hello\n")],
        metadata={"tags": ["keep-me"]},
    )
    question = new_markdown_cell("Why?\n\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION", id="question")
    return new_notebook(cells=[new_markdown_cell("# Title", id="title"), code, question])


def write_solutions(directory, notebooks):
    directory.mkdir(parents=True, exist_ok=True)
    for name, nb in notebooks.items():
        nbformat.write(nb, directory / name)


# ---- the repository's own notebooks ----


def test_exercises_are_up_to_date_with_solutions():
    problems = tool.stale_exercises(SOLUTIONS, EXERCISES)
    assert not problems, tool.format_problems(problems)


def test_every_solution_notebook_has_an_answer_region():
    for path in sorted(SOLUTIONS.glob("*.ipynb")):
        assert tool.BEGIN in path.read_text(encoding="utf-8"), f"{path.name} has no answer region"


@pytest.mark.parametrize("solution", sorted(SOLUTIONS.glob("*.ipynb")), ids=lambda p: p.name)
def test_exercise_keeps_no_line_of_an_answer(solution):
    exercise = nbformat.read(EXERCISES / solution.name, as_version=4)
    for index, cell in enumerate(nbformat.read(solution, as_version=4).cells):
        exercise_lines = {line.strip() for line in exercise.cells[index].source.split("\n")}
        leaked = solution_region_lines(cell.source) & exercise_lines
        assert not leaked, f"{solution.name}, cell index {index}: the exercise still contains {sorted(leaked)}"
        if cell.cell_type == "code" and tool.BEGIN in cell.source:
            assert "raise NotImplementedError()" in exercise.cells[index].source


@pytest.mark.parametrize("solution", sorted(SOLUTIONS.glob("*.ipynb")), ids=lambda p: p.name)
def test_exercise_notebook_has_no_outputs(solution):
    for cell in nbformat.read(EXERCISES / solution.name, as_version=4).cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_check_command_passes_on_the_repository():
    result = subprocess.run([sys.executable, str(TOOL_PATH), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# ---- the tool, on small notebooks ----


def test_answer_regions_become_stubs_at_the_marker_indentation():
    exercise = tool.make_exercise_notebook(small_solution_notebook())
    assert exercise.cells[1].source == (
        "def f(x):\n"
        '    """Docstring."""\n'
        "    # YOUR CODE HERE\n"
        "    raise NotImplementedError()\n"
        "\n"
        "\n"
        "class A:\n"
        "    def g(self):\n"
        "        # YOUR CODE HERE\n"
        "        raise NotImplementedError()"
    )


def test_markdown_answer_regions_become_your_answer_here():
    exercise = tool.make_exercise_notebook(small_solution_notebook())
    assert exercise.cells[2].source == "Why?\n\nYOUR ANSWER HERE"


def test_outputs_are_cleared_and_everything_else_is_kept():
    solution = small_solution_notebook()
    exercise = tool.make_exercise_notebook(solution)
    code = exercise.cells[1]
    assert code.outputs == [] and code.execution_count is None
    assert code.metadata == {"tags": ["keep-me"]} and code.id == "answer"
    assert exercise.cells[0] == solution.cells[0] and exercise.metadata == solution.metadata
    assert solution.cells[1].outputs, "the solution notebook itself must not be modified"


@pytest.mark.parametrize(
    "source, message",
    [
        ("x = 1\n### BEGIN SOLUTION\ny = 2", r"cell index 1 .*line 2: '### BEGIN SOLUTION' has no matching"),
        ("x = 1\ny = 2\n    ### END SOLUTION", r"cell index 1 .*line 3: '### END SOLUTION' without"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", r"line 2: .*regions cannot nest"),
        ("## BEGIN SOLUTION\nx = 1\n### END SOLUTION", r"line 1: .*looks like a solution marker"),
    ],
    ids=["begin-without-end", "end-without-begin", "nested", "misspelt-marker"],
)
def test_unbalanced_markers_name_the_notebook_cell_and_line(source, message):
    nb = new_notebook(cells=[new_markdown_cell("intro"), new_code_cell(source)])
    with pytest.raises(tool.MarkerError, match=message) as info:
        tool.make_exercise_notebook(nb, "solutions/99_broken.ipynb")
    assert "solutions/99_broken.ipynb" in str(info.value)


def test_regeneration_is_byte_identical(tmp_path):
    write_solutions(tmp_path / "solutions", {"01_small.ipynb": small_solution_notebook()})
    dirs = ["--solutions", str(tmp_path / "solutions"), "--exercises", str(tmp_path / "exercises")]
    assert tool.main(dirs) == 0
    first = (tmp_path / "exercises" / "01_small.ipynb").read_bytes()
    (tmp_path / "exercises" / "01_small.ipynb").unlink()
    assert tool.main(dirs) == 0
    assert (tmp_path / "exercises" / "01_small.ipynb").read_bytes() == first
    assert tool.stale_exercises(tmp_path / "solutions", tmp_path / "exercises") == []


def test_check_lists_missing_stale_and_orphaned_exercises_and_writes_nothing(tmp_path, capsys):
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    write_solutions(solutions, {"01_a.ipynb": small_solution_notebook(), "02_b.ipynb": small_solution_notebook()})
    tool.write_exercises(solutions, exercises)
    edited = small_solution_notebook()
    edited.cells[0].source = "# A new title"
    write_solutions(solutions, {"01_a.ipynb": edited, "03_c.ipynb": small_solution_notebook()})
    (solutions / "02_b.ipynb").unlink()
    before = {p.name: p.read_bytes() for p in exercises.iterdir()}

    assert tool.main(["--check", "--solutions", str(solutions), "--exercises", str(exercises)]) == 1
    err = capsys.readouterr().err
    assert "01_a.ipynb is stale" in err and "02_b.ipynb is orphaned" in err and "03_c.ipynb is missing" in err
    assert "run `make exercises` to regenerate" in err
    assert {p.name: p.read_bytes() for p in exercises.iterdir()} == before


def test_regenerating_deletes_exercises_whose_solution_is_gone(tmp_path, capsys):
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    write_solutions(solutions, {"01_a.ipynb": small_solution_notebook()})
    write_solutions(exercises, {"01_a.ipynb": small_solution_notebook(), "09_old.ipynb": small_solution_notebook()})
    assert tool.main(["--solutions", str(solutions), "--exercises", str(exercises)]) == 0
    out = capsys.readouterr().out
    assert "deleted" in out and "09_old.ipynb" in out and "solution notebook" in out
    assert sorted(p.name for p in exercises.iterdir()) == ["01_a.ipynb"]


def test_a_marker_error_leaves_exercises_untouched(tmp_path, capsys):
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    broken = new_notebook(cells=[new_code_cell("### BEGIN SOLUTION\nx = 1")])
    write_solutions(solutions, {"01_a.ipynb": small_solution_notebook(), "02_broken.ipynb": broken})
    assert tool.main(["--solutions", str(solutions), "--exercises", str(exercises)]) == 1
    assert "02_broken.ipynb, cell index 0" in capsys.readouterr().err
    assert not exercises.exists() or not any(exercises.iterdir())


@pytest.mark.parametrize("solution", sorted(SOLUTIONS.glob("*.ipynb")), ids=lambda p: p.name)
def test_nbgrader_clears_the_solutions_into_the_same_exercises(solution):
    """The independent reference for make exercises: nbgrader's own ClearSolutions step, run over each solution
    notebook, gives exercises/ cell by cell (metadata not enforced: these notebooks carry no nbgrader cell
    metadata; nbgrader then clears every region between its markers)."""
    from nbgrader.preprocessors import ClearSolutions

    cleared, _ = ClearSolutions(enforce_metadata=False).preprocess(nbformat.read(solution, as_version=4), {})
    released = nbformat.read(EXERCISES / solution.name, as_version=4)
    assert [(c.cell_type, c.source) for c in cleared.cells] == [(c.cell_type, c.source) for c in released.cells]
