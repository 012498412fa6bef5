"""Run the course headless: execute every notebook in notebooks/ in order, keep the executed copies
and an HTML rendering in build/, and print a summary of times and each notebook's key figures.

    python tools/run_course.py [--out build] [--timeout 600] [notebooks/01_*.ipynb ...]

Key figures are what a notebook passes to minigpt.report(...); they are read back from the
executed notebook's outputs, so the notebook runs exactly as it does for a student.

The runtime rule scales with the machine: a notebook may take 120 s x max(1, bench_ms / 30), where bench_ms
is the training step time of `make bench` (its nanoGPT CPU configuration). The runner measures bench_ms once,
a few seconds, before the first notebook, and the summary shows each notebook's share of its budget.
"""
import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbconvert import HTMLExporter
from traitlets.config import Config

from minigpt.report import REPORT_MIME

ROOT = Path(__file__).resolve().parent.parent
BUDGET_SECONDS, BUDGET_BENCH_MS = 120, 30  # a notebook's budget on a machine whose bench step is 30 ms or less


def bench_ms():
    """The training step time of `make bench` on this machine, in milliseconds (benchmarks/run.py's bench_ms, which
    the experiments' results record too: a short run, a few seconds)."""
    sys.path.insert(0, str(ROOT))
    try:
        from benchmarks.run import bench_ms as measure
    finally:
        sys.path.remove(str(ROOT))
    return measure()


def budget_seconds(bench):
    """A notebook's budget on a machine whose bench step takes `bench` ms: 120 s x max(1, bench_ms / 30)."""
    return BUDGET_SECONDS * max(1.0, bench / BUDGET_BENCH_MS)


def key_figures(nb):
    """The figures reported by minigpt.report() calls, in order, from an executed notebook."""
    figures = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            figures.update(output.get("data", {}).get(REPORT_MIME, {}))
    return figures


def run_notebook(path, out_dir, timeout):
    """Execute one notebook (working directory: its own folder); returns (seconds, figures, error)."""
    nb = nbformat.read(path, as_version=4)
    start, error = time.perf_counter(), None
    try:
        with tempfile.TemporaryDirectory(prefix="minigpt-kernel-") as sockets:
            # The kernel talks to us over Unix sockets in a private folder rather than local TCP ports, which
            # other users of the machine could connect to (and ipykernel warns about, once per notebook).
            # Windows has no such sockets for Jupyter: TCP there.
            ipc = {"transport": "ipc", "ip": os.path.join(sockets, "kernel")} if os.name == "posix" else {}
            config = Config({"KernelManager": ipc})
            client = NotebookClient(nb, timeout=timeout, kernel_name="python3", config=config,
                                    resources={"metadata": {"path": str(path.parent)}})
            client.execute()
    except CellExecutionError as err:
        error = f"{err.ename}: {err.evalue}"
    except Exception as err:  # a kernel that died or timed out
        error = f"{type(err).__name__}: {err}"
    seconds = time.perf_counter() - start
    (out_dir / "notebooks").mkdir(parents=True, exist_ok=True)
    (out_dir / "html").mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out_dir / "notebooks" / path.name)
    body, _ = HTMLExporter().from_notebook_node(nb)
    (out_dir / "html" / path.with_suffix(".html").name).write_text(body, encoding="utf-8")
    return seconds, key_figures(nb), error


def format_figures(figures):
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebooks/*.ipynb, in order")
    parser.add_argument("--out", type=Path, default=ROOT / "build")
    parser.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell")
    args = parser.parse_args(argv)
    # Kernels start with the interpreter running this script (the course's environment).
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    if not paths:
        print("no notebooks found in notebooks/", file=sys.stderr)
        return 1
    bench = bench_ms()
    budget = budget_seconds(bench)
    print(f"this machine: bench_ms {bench:.1f}, so each notebook's budget is {budget:.0f} s", flush=True)
    rows = []
    for path in paths:
        print(f"running {path.name} ...", flush=True)
        seconds, figures, error = run_notebook(path.resolve(), args.out, args.timeout)
        status = "ok" if error is None else "FAILED"
        print(f"  {status} in {seconds:.1f} s" + (f": {error}" if error else ""), flush=True)
        rows.append({"notebook": path.name, "seconds": round(seconds, 1), "budget_share": round(seconds / budget, 3),
                     "status": status, "figures": figures, "error": error})
    width = max(len(r["notebook"]) for r in rows)
    lines = [f"bench_ms {bench:.1f}: budget {budget:.0f} s a notebook (120 s x max(1, bench_ms / 30))", "",
             f"{'notebook':<{width}}  {'seconds':>7}  {'budget':>6}  status  key figures", "-" * (width + 48)]
    for r in rows:
        share = f"{r['budget_share']:.0%}" + ("!" if r["budget_share"] > 1 else " ")
        lines.append(f"{r['notebook']:<{width}}  {r['seconds']:>7.1f}  {share:>6}  {r['status']:<6}  "
                     f"{format_figures(r['figures'])}")
    lines.append(f"{'total':<{width}}  {sum(r['seconds'] for r in rows):>7.1f}")
    over = [r["notebook"] for r in rows if r["budget_share"] > 1]
    if over:
        lines.append(f"over budget (!): {', '.join(over)}")
    summary = "\n".join(lines)
    print("\n" + summary)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.txt").write_text(summary + "\n", encoding="utf-8")
    (args.out / "summary.json").write_text(json.dumps({"bench_ms": round(bench, 1), "budget_seconds": round(budget),
                                                       "notebooks": rows}, indent=2) + "\n", encoding="utf-8")
    print(f"\nexecuted notebooks in {args.out / 'notebooks'}, HTML in {args.out / 'html'}")
    return 0 if all(r["error"] is None for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
