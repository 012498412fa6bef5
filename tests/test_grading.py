"""minigpt grade: returned exercise notebooks run headless, each checker's verdict recorded, broken submissions and
three attempts to earn an unearned point graded as they should be. The submissions are made here from exercise 08
(the quickest to run) and its solution."""
import copy
import csv

import nbformat
import pytest

from minigpt.cli import main
from minigpt.grading import expected_checks, find_submissions, rebuild, released_exercises, which_release

NAME = "08_gpt4_exercises.ipynb"
SUCCESS_LINE = "fit_line: correct! It matches minigpt's reference on 3 test inputs."


def release():
    return nbformat.read(f"exercises/{NAME}", as_version=4)


def with_cells(notebook, **sources):
    notebook = copy.deepcopy(notebook)
    for cell in notebook.cells:
        if cell.id in sources:
            cell.source = sources[cell.id]
    return notebook


def solved_cells():
    solution = nbformat.read(f"solutions/{NAME}", as_version=4)
    return {cell.id: cell.source for cell in solution.cells if cell.id in ("exercise-1-code", "exercise-2-code", "exercise-3-code")}


def submissions(root):
    """A folder per student (alice ... mallory-deletes) and one file per student (heidi.ipynb)."""
    ex, solved = release(), solved_cells()
    log10_then_exp = solved["exercise-1-code"].replace("np.log(compute), np.log(", "np.log10(compute), np.log10(")
    stub = "def straight_line(compute, losses, irreducible):\n    raise NotImplementedError()"
    prints = f'print("{SUCCESS_LINE}")\n{stub}'
    no_colon = "def straight_line(compute, losses, irreducible)\n    return 1, 2"
    deleted = copy.deepcopy(ex)
    deleted.cells = [cell for cell in deleted.cells if cell.id != "exercise-1-check"]
    made = {
        "alice": with_cells(ex, **solved),  # right
        "bob": ex,  # handed back untouched
        "carol": with_cells(ex, **{"exercise-1-code": log10_then_exp}),  # a known mistake
        "dave": with_cells(ex, **{"exercise-1-code": no_colon}),  # a syntax error
        "erin": with_cells(ex, **{"exercise-1-code": "while True:\n    pass"}),
        "frank": with_cells(ex, **{"exercise-1-code": "import os\nos._exit(1)"}),
        "mallory-prints": with_cells(ex, **{"exercise-1-code": prints}),
        "mallory-edits": with_cells(ex, **{"exercise-1-check": f'print("{SUCCESS_LINE}")'}),
        "mallory-deletes": deleted,
    }
    for student, notebook in made.items():
        (root / student).mkdir()
        nbformat.write(notebook, root / student / NAME)
    (root / "grace").mkdir()
    (root / "grace" / NAME).write_text("{ this is not JSON")
    nbformat.write(with_cells(ex, **solved), root / "heidi.ipynb")
    return sorted(str(p) for p in root.iterdir())


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("returned")
    out = tmp_path_factory.mktemp("grades")
    # two at a time, as an instructor with a 2-core laptop would: the verdicts must not mix up submissions
    assert main(["grade", *submissions(root), "--out", str(out), "--timeout", "20", "--jobs", "2"]) == 0
    with open(out / "gradebook.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    # the submissions differ in exercise 1: its check's row is each student's verdict
    return {row["student"]: row for row in rows if row["check"] == "check_fit_line"}, rows, out


@pytest.mark.slow
@pytest.mark.parametrize("student, verdict, detail", [
    ("alice", "passed", ""),
    ("heidi", "passed", ""),  # one file per student: named by the file, its exercise found by its title
    ("bob", "not implemented", ""),
    ("carol", "wrong", "a = 10 ** intercept"),  # the checker's own diagnosis
    ("dave", "crashed", "SyntaxError"),
    ("erin", "crashed", "20-second limit"),
    ("frank", "crashed", "kernel died"),
    ("grace", "crashed", "not a readable notebook"),
])
def test_each_kind_of_submission_gets_its_verdict(graded, student, verdict, detail):
    row = graded[0][student]
    assert (row["check"], row["verdict"], row["points"]) == ("check_fit_line", verdict, str(int(verdict == "passed")))
    assert detail in row["detail"]


@pytest.mark.slow
@pytest.mark.parametrize("student", ["mallory-prints", "mallory-edits", "mallory-deletes"])
def test_no_attempt_to_earn_an_unearned_point_scores(graded, student):
    row = graded[0][student]
    assert row["verdict"] == "not implemented" and row["points"] == "0"
    executed = nbformat.read(graded[2] / "executed" / student / NAME, as_version=4)
    check = next(cell for cell in executed.cells if cell.id == "exercise-1-check")
    assert check.source == next(c.source for c in release().cells if c.id == "exercise-1-check")  # ran as released


@pytest.mark.slow
def test_the_gradebook_totals_each_student_and_the_feedback_uses_the_checkers_words(graded):
    totals = {row["student"]: row for row in graded[1] if row["exercise"] == "TOTAL"}
    assert set(totals) == set(graded[0]) and len(totals) == 11
    assert {s: totals[s]["points"] for s in ("alice", "heidi", "bob")} == {"alice": "2", "heidi": "2", "bob": "0"}
    feedback = (graded[2] / "feedback" / "carol.md").read_text()
    assert "**wrong**" in feedback and "fits in log10 but turns the intercept back with exp" in feedback


def test_rebuild_keeps_only_the_answer_cells_of_a_submission():
    ex = release()
    submission = with_cells(ex, **{"exercise-1-code": "def straight_line(c, l, i):\n    return 1, 2",
                                   "exercise-1-check": "print('all correct')", "intro": "# my own title"})
    submission.cells.append(nbformat.v4.new_code_cell("print('an extra cell')", id="extra"))
    rebuilt = rebuild(ex, submission)
    assert [cell.id for cell in rebuilt.cells] == [cell.id for cell in ex.cells]  # the extra cell is left out
    sources = {cell.id: cell.source for cell in rebuilt.cells}
    assert sources["exercise-1-code"] == "def straight_line(c, l, i):\n    return 1, 2"
    assert sources["exercise-1-check"] == next(c.source for c in ex.cells if c.id == "exercise-1-check")
    assert sources["intro"] == ex.cells[0].source


def test_an_answer_cell_written_again_under_a_new_id_is_found_by_its_def_line():
    ex = release()
    submission = copy.deepcopy(ex)
    submission.cells = [cell for cell in submission.cells if cell.id != "exercise-1-code"]
    again = "def straight_line(compute, losses, irreducible):\n    return 3, 4"
    submission.cells.append(nbformat.v4.new_code_cell(again, id="written-again"))
    sources = {cell.id: cell.source for cell in rebuild(ex, submission).cells}
    assert sources["exercise-1-code"].endswith("return 3, 4")


def test_submissions_are_named_by_folder_or_file_and_matched_to_their_release(tmp_path):
    (tmp_path / "zoe").mkdir()
    nbformat.write(release(), tmp_path / "zoe" / NAME)
    nbformat.write(release(), tmp_path / "yan.ipynb")
    found = find_submissions([tmp_path / "zoe", tmp_path / "yan.ipynb"])
    assert [(student, path.name) for student, path in found] == [("zoe", NAME), ("yan", "yan.ipynb")]
    releases = released_exercises("exercises")
    assert which_release(tmp_path / "yan.ipynb", release(), releases) == NAME
    assert expected_checks(releases[NAME]) == ["check_fit_line", "check_text_floor"]
    assert expected_checks(releases["06_instructgpt_exercises.ipynb"]) == [
        "check_kl_penalised_rewards", "check_gae", "check_clipped_policy_loss", "check_best_of_n"]
    with pytest.raises(FileNotFoundError, match="no submission"):
        find_submissions([tmp_path / "nobody"])


def test_jobs_below_one_is_a_clear_error(tmp_path, capsys):
    nbformat.write(release(), tmp_path / "yan.ipynb")
    assert main(["grade", str(tmp_path / "yan.ipynb"), "--out", str(tmp_path / "grades"), "--jobs", "0"]) != 0
    assert "jobs must be at least 1" in capsys.readouterr().err
    assert not (tmp_path / "grades").exists()
