"""The course runner executes notebooks headless and collects the figures they report."""
import importlib.util
import os
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("run_course", ROOT / "tools" / "run_course.py")
run_course = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run_course)


def write_notebook(path, *sources):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.mark.slow
def test_runner_writes_executed_copies_html_and_a_summary_with_key_figures(tmp_path, capsys):
    good, bad = tmp_path / "01_good.ipynb", tmp_path / "02_bad.ipynb"
    write_notebook(good, "import minigpt", "minigpt.report(val_loss=1.25, accuracy=0.5)", "minigpt.report(n=3)",
                   "from ipykernel.kernelapp import IPKernelApp; print(IPKernelApp.instance().transport)")
    write_notebook(bad, "assert 1 + 1 == 3, 'arithmetic is broken'")
    out = tmp_path / "build"
    status = run_course.main([str(good), str(bad), "--out", str(out), "--timeout", "120"])
    printed = capsys.readouterr().out
    assert status == 1  # one notebook failed
    assert "val_loss=1.25, accuracy=0.5, n=3" in printed
    assert "FAILED" in printed and "arithmetic is broken" in printed
    executed = nbformat.read(out / "notebooks" / "01_good.ipynb", as_version=4)
    transport = "ipc" if os.name == "posix" else "tcp"  # Unix sockets, not TCP ports others could reach
    assert executed.cells[-1].outputs[0]["text"] == transport + "\n"
    assert (out / "notebooks" / "01_good.ipynb").exists() and (out / "html" / "01_good.html").exists()
    assert "01_good.ipynb" in (out / "summary.txt").read_text()


def test_the_budget_scales_with_the_machine_and_a_notebook_over_it_is_flagged(tmp_path, capsys, monkeypatch):
    assert run_course.budget_seconds(20.0) == 120 and run_course.budget_seconds(30.0) == 120
    assert run_course.budget_seconds(60.0) == 240 and run_course.budget_seconds(75.0) == 300
    monkeypatch.setattr(run_course, "bench_ms", lambda: 45.0)  # a budget of 180 s
    monkeypatch.setattr(run_course, "BUDGET_SECONDS", 0.01)  # ... of 0.015 s, which any notebook exceeds
    nb = tmp_path / "01_slow.ipynb"
    write_notebook(nb, "1 + 1")
    assert run_course.main([str(nb), "--out", str(tmp_path / "build"), "--timeout", "120"]) == 0
    summary = (tmp_path / "build" / "summary.txt").read_text()
    assert "bench_ms 45.0" in summary and "over budget (!): 01_slow.ipynb" in summary


def test_bench_ms_measures_the_bench_training_step():
    assert 0.1 < run_course.bench_ms() < 10_000
