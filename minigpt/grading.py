"""Grade returned exercise notebooks: `python -m minigpt grade SUBMISSIONS... [--out DIR] [--timeout SECONDS]
[--jobs N]`.

A submission is a returned exercise notebook. Give files (the student is the file's name: alice.ipynb) or folders
(one per student, holding any of the exercises under their released names: alice/05_instructgpt_exercises.ipynb).
For each submission the grader

1. finds its released exercise in exercises/: by the file name, else by the notebook's title (its first line);
2. rebuilds it from the release, cell by cell: every cell is the released one except the answer cells (those
   whose released source holds the stub `# YOUR CODE HERE`), which come from the student's notebook by cell id
   (or, for a cell written again under a new id, by its first line: the function's `def` line).
   A checker cell that was edited or deleted runs as released, as nbgrader's autograder restores its test cells;
   cells the student added are left out;
3. runs it headless in a fresh kernel, errors allowed (one broken exercise does not stop the next), within
   --timeout seconds for the whole notebook (--jobs N runs N submissions at once);
4. collects each checker's verdict from a file that the checkers write (minigpt.checks records every call to
   the file named by $MINIGPT_VERDICTS): passed, wrong (with the checker's diagnosis), not implemented, or
   crashed (the student's code raised, or the checker never ran: a syntax error, the time limit, a kernel that
   died, a file that is not a notebook). Printed text never counts.

It writes DIR/gradebook.csv (a row per student, exercise notebook and check, a point per check passed, and a
total row per student), DIR/feedback/STUDENT.md in the checkers' words, and DIR/executed/ with the notebooks as
they ran.

The limit that remains, as for nbgrader: code in an answer cell runs with your permissions and can do anything
you can (read or write files, the verdict file included). Grade in a container or a throwaway account (README).
"""
import copy
import csv
import json
import os
import re
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from .checks.core import VERDICTS_ENV

STUB = "# YOUR CODE HERE"
CHECK_CALL = re.compile(r"^(check_\w+)\(", re.MULTILINE)
VERDICTS = ("passed", "wrong", "not implemented", "crashed")


@dataclass
class Verdict:
    student: str
    exercise: str  # the released notebook's name
    check: str  # the checker, e.g. check_gae
    verdict: str  # one of VERDICTS
    detail: str = ""

    @property
    def points(self):
        return int(self.verdict == "passed")


def released_exercises(folder):
    """{file name: notebook} of the released exercises in folder."""
    found = {path.name: nbformat.read(path, as_version=4) for path in sorted(Path(folder).glob("*.ipynb"))}
    if not found:
        raise FileNotFoundError(f"no released exercises (.ipynb) in {folder}; give the folder with --exercises")
    return found


def expected_checks(release):
    """The checkers a released exercise calls, in order: check_... at the start of a line of a code cell."""
    return [name for cell in release.cells if cell.cell_type == "code" for name in CHECK_CALL.findall(cell.source)]


def is_answer_cell(cell):
    return cell.cell_type == "code" and STUB in cell.source


def student_answer(cell, submission):
    """The student's cell for a released answer cell: the code cell with its id, else (a cell deleted and written
    again gets a new id) the first code cell that starts with the same line, `def straight_line(...)`."""
    code = [c for c in submission.cells if c.cell_type == "code"]
    same_id = [c for c in code if c.get("id") == cell.get("id")]
    first_line = cell.source.splitlines()[0] if cell.source.strip() else None
    first_line = None if first_line is None or first_line.strip() == STUB else first_line  # a bare stub names nothing
    same_start = [c for c in code if first_line and c.source.splitlines()[:1] == [first_line]]
    return (same_id or same_start or [None])[0]


def rebuild(release, submission):
    """The release with the student's answer cells in place of its stubs; nothing else of the submission is kept."""
    notebook = copy.deepcopy(release)
    for cell in notebook.cells:
        answer = student_answer(cell, submission) if is_answer_cell(cell) else None
        if answer is not None:
            cell.source = answer.source
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return notebook


def find_submissions(paths):
    """[(student, path)] for files (the student is the file's name) and folders (one per student)."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found += [(path.name, p) for p in sorted(path.glob("*.ipynb"))]
        elif path.is_file():
            found.append((path.stem, path))
        else:
            raise FileNotFoundError(f"no submission file or folder {str(path)!r}")
    return found


def title(notebook):
    first = next((c for c in notebook.cells if c.cell_type == "markdown"), None)
    return first.source.strip().splitlines()[0] if first and first.source.strip() else None


def which_release(path, notebook, releases):
    """The released exercise's name for a submission: its file name when that is a release's, else its title."""
    if path.name in releases:
        return path.name
    by_title = {title(nb): name for name, nb in releases.items()}
    if notebook is not None and title(notebook) in by_title:
        return by_title[title(notebook)]
    return None


def run_notebook(notebook, timeout, verdict_file, cwd):
    """Execute notebook in a fresh kernel, errors allowed, within timeout seconds in all. Returns None, or a
    sentence saying why it stopped early (the time limit, a kernel that died)."""
    client = NotebookClient(notebook, timeout=timeout, allow_errors=True, kernel_name="python3",
                            resources={"metadata": {"path": str(cwd)}},
                            extra_arguments=["--IPKernelApp.log_level=ERROR"])  # no transport warnings per notebook
    env = {**os.environ, VERDICTS_ENV: str(verdict_file)}
    deadline = time.monotonic() + timeout
    try:
        with client.setup_kernel(env=env):
            for index, cell in enumerate(notebook.cells):
                client.timeout = max(1, round(deadline - time.monotonic()))
                client.execute_cell(cell, index)
    except CellTimeoutError:
        return f"the notebook ran past the {timeout}-second limit"
    except DeadKernelError:
        return "the kernel died (the code ended the Python process, or ran out of memory)"
    return None


def first_error(notebook):
    """'ename: evalue' of the first cell that raised, or None."""
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return f"{output['ename']}: {output['evalue']}"
    return None


def grade_one(student, path, releases, *, timeout, executed_dir):
    """The Verdicts of one submission."""
    try:
        submission = nbformat.read(path, as_version=4)
    except Exception as err:  # not JSON, or not a notebook
        name = which_release(path, None, releases)
        reason = f"the file is not a readable notebook ({type(err).__name__}: {str(err).splitlines()[0][:200]})"
        checks = expected_checks(releases[name]) if name else ["(unknown exercise)"]
        return [Verdict(student, name or path.name, check, "crashed", reason) for check in checks]
    name = which_release(path, submission, releases)
    if name is None:
        return [Verdict(student, path.name, "(unknown exercise)", "crashed",
                        "neither its file name nor its title is one of the released exercises")]
    notebook = rebuild(releases[name], submission)
    with tempfile.TemporaryDirectory(prefix="minigpt-grade-") as work:
        verdict_file = Path(work) / "verdicts.jsonl"
        verdict_file.touch()
        stopped = run_notebook(notebook, timeout, verdict_file, work)
        records = [json.loads(line) for line in verdict_file.read_text().splitlines() if line.strip()]
    out = executed_dir / student / name
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, out)
    recorded = {}
    for record in records:  # a checker called twice: its last verdict counts
        recorded[record["check"]] = record
    verdicts = []
    for check in expected_checks(releases[name]):
        if check in recorded:
            verdicts.append(Verdict(student, name, check, recorded[check]["verdict"], recorded[check]["detail"]))
        else:
            reason = stopped or first_error(notebook) or "the checker was not called"
            verdicts.append(Verdict(student, name, check, "crashed", f"the check never ran: {reason}"))
    return verdicts


def write_gradebook(verdicts, out):
    """DIR/gradebook.csv and DIR/feedback/STUDENT.md."""
    out = Path(out)
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    students = sorted({v.student for v in verdicts})
    with open(out / "gradebook.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "exercise", "check", "verdict", "points", "detail"])
        for student in students:
            mine = [v for v in verdicts if v.student == student]
            for v in mine:
                writer.writerow([v.student, v.exercise, v.check, v.verdict, v.points, v.detail.splitlines()[0][:300]
                                 if v.detail else ""])
            writer.writerow([student, "TOTAL", "", "", sum(v.points for v in mine), f"of {len(mine)}"])
    for student in students:
        mine = [v for v in verdicts if v.student == student]
        lines = [f"# Feedback for {student}", "", f"{sum(v.points for v in mine)} of {len(mine)} checks passed.", ""]
        for exercise in dict.fromkeys(v.exercise for v in mine):
            lines += [f"## {exercise}", ""]
            for v in (v for v in mine if v.exercise == exercise):
                lines.append(f"- `{v.check}`: **{v.verdict}**" + (f". {v.detail}" if v.detail else ""))
            lines.append("")
        (out / "feedback" / f"{student}.md").write_text("\n".join(lines), encoding="utf-8")


def grade(paths, *, out="grades", timeout=300, exercises=None, progress=True, jobs=1):
    """Grade every submission under paths; writes the gradebook and feedback into out and returns the Verdicts.
    jobs: how many submissions run at once, each in its own kernel (their verdicts keep the submissions' order).
    The time limit is wall-clock time, so run no more at once than the machine has cores."""
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, not {jobs}")
    releases = released_exercises(exercises or default_exercises())
    submissions = find_submissions(paths)

    def one(submission):
        student, path = submission
        if progress:
            print(f"grading {student}: {path.name}", flush=True)
        return grade_one(student, path, releases, timeout=timeout, executed_dir=Path(out) / "executed")

    with ThreadPoolExecutor(max_workers=jobs) as pool:  # threads suffice: each notebook runs in its own kernel
        verdicts = [v for found in pool.map(one, submissions) for v in found]
    write_gradebook(verdicts, out)
    return verdicts


def default_exercises():
    """The course's exercises/ folder: in the current directory, else beside the package (a clone)."""
    for folder in (Path("exercises"), Path(__file__).resolve().parent.parent / "exercises"):
        if folder.is_dir():
            return folder
    raise FileNotFoundError("no exercises/ folder here or beside minigpt; give the released exercises with --exercises")
