"""Generate exercises/ from solutions/: the answer regions are cut out, everything else is kept.

    python tools/make_exercises.py           regenerate exercises/ (and delete orphaned ones)
    python tools/make_exercises.py --check   write nothing; exit 1 if exercises/ is out of date

In a solution notebook an answer region is marked with nbgrader's markers, each on a line of
its own (it may be indented, e.g. inside a function body):

    ### BEGIN SOLUTION
    ...the answer...
    ### END SOLUTION

In a code cell the region, markers included, becomes two lines at the marker's indentation,
`# YOUR CODE HERE` and `raise NotImplementedError()`; in a markdown cell it becomes
`YOUR ANSWER HERE`. Outputs and execution counts are cleared. The files are written with
nbformat.write, so regenerating gives the same bytes every time.
"""
import argparse
import copy
import io
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUBS = {
    "code": ["# YOUR CODE HERE", "raise NotImplementedError()"],
    "markdown": ["YOUR ANSWER HERE"],
}
REGENERATE_HINT = "run `make exercises` to regenerate"


class MarkerError(ValueError):
    """A solution notebook whose BEGIN/END SOLUTION markers do not pair up."""


def strip_solution_regions(source, cell_type, where="cell"):
    """The cell source with every answer region replaced by the stub for cell_type.

    `where` names the cell in error messages, e.g. "solutions/01_x.ipynb, cell index 4".
    """
    lines = source.split("\n")
    out, begin_line = [], None  # begin_line: 1-based line of the open region's BEGIN marker
    for number, line in enumerate(lines, start=1):
        marker = line.strip()
        if marker not in (BEGIN, END) and ("BEGIN SOLUTION" in line or "END SOLUTION" in line):
            raise MarkerError(
                f"{where}, line {number}: {line.strip()!r} looks like a solution marker but is not "
                f"exactly {BEGIN!r} or {END!r}; fix it, or the answer would leak into the exercise"
            )
        if marker == BEGIN:
            if begin_line is not None:
                raise MarkerError(
                    f"{where}, line {number}: {BEGIN!r} inside the region opened at line {begin_line}; "
                    f"close that one with {END!r} first (regions cannot nest)"
                )
            begin_line = number
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + stub for stub in STUBS[cell_type])
        elif marker == END:
            if begin_line is None:
                raise MarkerError(f"{where}, line {number}: {END!r} without a {BEGIN!r} before it")
            begin_line = None
        elif begin_line is None:
            out.append(line)
    if begin_line is not None:
        raise MarkerError(f"{where}, line {begin_line}: {BEGIN!r} has no matching {END!r}")
    return "\n".join(out)


def make_exercise_notebook(nb, name="notebook"):
    """A copy of the solution notebook nb with answers cut out and outputs cleared.

    `name` (e.g. the notebook's path) is used in error messages.
    """
    exercise = copy.deepcopy(nb)
    for index, cell in enumerate(exercise.cells):
        if cell.cell_type in STUBS:
            first_line = cell.source.split("\n", 1)[0][:40]
            where = f"{name}, cell index {index} (starting {first_line!r})"
            cell.source = strip_solution_regions(cell.source, cell.cell_type, where)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return exercise


def notebook_text(nb):
    """The exact text that nbformat.write puts in a file for nb."""
    buffer = io.StringIO()
    nbformat.write(nb, buffer)
    return buffer.getvalue()


def _display(path):
    """A path relative to the repository when it is inside it, for messages."""
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def expected_exercises(solutions_dir):
    """{file name: exercise notebook text} for every solutions_dir/*.ipynb."""
    expected = {}
    for path in sorted(Path(solutions_dir).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        expected[path.name] = notebook_text(make_exercise_notebook(nb, _display(path)))
    return expected


def stale_exercises(solutions_dir, exercises_dir):
    """One line per exercise notebook that is missing, stale or orphaned; [] when all are current."""
    solutions_dir, exercises_dir = Path(solutions_dir), Path(exercises_dir)
    expected = expected_exercises(solutions_dir)
    problems = []
    for name, text in expected.items():
        path = exercises_dir / name
        if not path.exists():
            problems.append(f"{_display(path)} is missing (generated from {_display(solutions_dir / name)})")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(
                f"{_display(path)} is stale: it differs from what {_display(solutions_dir / name)} generates "
                "(edit solutions/, never exercises/)"
            )
    for path in sorted(exercises_dir.glob("*.ipynb")):
        if path.name not in expected:
            problems.append(f"{_display(path)} is orphaned: there is no {_display(solutions_dir / path.name)}")
    return problems


def format_problems(problems):
    """The message --check prints (and the test shows) when exercises/ is out of date."""
    lines = ["exercises/ is out of date with solutions/:"] + [f"  {p}" for p in problems]
    return "\n".join(lines + [REGENERATE_HINT])


def write_exercises(solutions_dir, exercises_dir):
    """Regenerate every exercise notebook and delete orphaned ones; returns what was done, one line each.

    Every solution notebook is processed before anything is written, so a marker error leaves
    exercises/ untouched.
    """
    solutions_dir, exercises_dir = Path(solutions_dir), Path(exercises_dir)
    expected = expected_exercises(solutions_dir)
    exercises_dir.mkdir(parents=True, exist_ok=True)
    done = []
    for name, text in expected.items():
        path = exercises_dir / name
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        done.append(f"wrote {_display(path)}")
    for path in sorted(exercises_dir.glob("*.ipynb")):
        if path.name not in expected:
            path.unlink()
            solution = _display(solutions_dir / path.name)
            done.append(f"deleted {_display(path)}: its solution notebook {solution} is gone")
    return done


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if exercises/ is out of date")
    parser.add_argument("--solutions", type=Path, default=ROOT / "solutions", help="default: solutions/")
    parser.add_argument("--exercises", type=Path, default=ROOT / "exercises", help="default: exercises/")
    args = parser.parse_args(argv)
    try:
        if args.check:
            problems = stale_exercises(args.solutions, args.exercises)
            if problems:
                print(format_problems(problems), file=sys.stderr)
                return 1
            count = len(list(Path(args.solutions).glob("*.ipynb")))
            plural = "" if count == 1 else "s"
            where = f"{_display(args.exercises)}/ is up to date with {_display(args.solutions)}/"
            print(f"{where} ({count} notebook{plural})")
            return 0
        done = write_exercises(args.solutions, args.exercises)
    except MarkerError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print("\n".join(done) if done else "exercises/ was already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
