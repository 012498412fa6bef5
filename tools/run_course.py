"""Run the course headless: execute every notebook in notebooks/ in order, keep the executed copies
and an HTML rendering in build/, and print a summary of times and each notebook's key figures.

    python tools/run_course.py [--out build] [--timeout 600] [notebooks/01_*.ipynb ...]

Key figures are what a notebook passes to minigpt.report(...); they are read back from the
executed notebook's outputs, so the notebook runs exactly as it does for a student.
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
    rows = []
    for path in paths:
        print(f"running {path.name} ...", flush=True)
        seconds, figures, error = run_notebook(path.resolve(), args.out, args.timeout)
        status = "ok" if error is None else "FAILED"
        print(f"  {status} in {seconds:.1f} s" + (f": {error}" if error else ""), flush=True)
        rows.append({"notebook": path.name, "seconds": round(seconds, 1), "status": status,
                     "figures": figures, "error": error})
    width = max(len(r["notebook"]) for r in rows)
    lines = [f"{'notebook':<{width}}  {'seconds':>7}  status  key figures", "-" * (width + 40)]
    lines += [f"{r['notebook']:<{width}}  {r['seconds']:>7.1f}  {r['status']:<6}  {format_figures(r['figures'])}"
              for r in rows]
    lines.append(f"{'total':<{width}}  {sum(r['seconds'] for r in rows):>7.1f}")
    summary = "\n".join(lines)
    print("\n" + summary)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.txt").write_text(summary + "\n", encoding="utf-8")
    (args.out / "summary.json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    print(f"\nexecuted notebooks in {args.out / 'notebooks'}, HTML in {args.out / 'html'}")
    return 0 if all(r["error"] is None for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
