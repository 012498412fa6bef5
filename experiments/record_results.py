"""Where an experiment's findings go: each run appends the rows of its result table to experiments/results/NAME.md
(NAME: the script's name), each row after the commit it ran at, the date and bench_ms, so that a finding has one
home and a date.

    python experiments/record_results.py        # the commit, date and bench_ms a row recorded now would carry

bench_ms is the training step time of `make bench` (benchmarks/run.py's bench_ms, about 3 s to measure): the figure
that tells how fast the machine was, so that times and budgets compare. Measure it once and pass it to several
experiments with --bench-ms. The commit gets "+changes" when tracked files differ from it (the results files
aside): the row then came from code that no commit holds.

In an experiment's main(): add_options(parser), then record(__file__, rows, args) with the rows it prints.
"""
import argparse
import datetime
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
STAMP = ("commit", "date", "bench_ms")


def add_options(parser):
    """--bench-ms and --no-record, for an experiment's argument parser."""
    group = parser.add_argument_group("results file (experiments/results/NAME.md)")
    group.add_argument("--bench-ms", type=float, help="bench_ms of this machine, recorded with every row (default: "
                       "measured when the first row is recorded, about 3 s)")
    group.add_argument("--no-record", action="store_true", help="print the results only, recording nothing")


def bench_ms():
    """The training step time of `make bench` on this machine, in milliseconds (measured now: a few seconds)."""
    sys.path.insert(0, str(ROOT))
    try:
        from benchmarks.run import bench_ms as measure
    finally:
        sys.path.remove(str(ROOT))
    return measure()


def commit():
    """The short hash of HEAD, with "+changes" when tracked files other than the results differ from it."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()

    try:
        head = git("rev-parse", "--short", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)experiments/results")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (no git)"
    return head + ("+changes" if changed else "")


def options(argv=None):
    """The command-line options of this run (argv, else sys.argv's), without the results file's own."""
    argv, kept, skip = list(sys.argv[1:] if argv is None else argv), [], False
    for arg in argv:
        if skip or arg == "--no-record":
            skip = False
        elif arg == "--bench-ms":
            skip = True
        elif not arg.startswith("--bench-ms="):
            kept.append(arg)
    return " ".join(kept) or "(defaults)"


def _cells(values):
    return "| " + " | ".join(str(v).replace("|", "\\|").replace("\n", " ") for v in values) + " |"


def append_rows(name, rows, bench_ms):
    """Append rows (dicts with the same keys, in the same order) to experiments/results/NAME.md as table rows after
    the commit, today's date and bench_ms; a new table header starts where the file does not already end with a
    table of these columns. name: the experiment's name or its file's path. Returns the results file's path."""
    path = RESULTS / f"{Path(name).stem}.md"
    columns = list(rows[0])
    header = _cells([*STAMP, *columns])
    stamp = [commit(), datetime.date.today().isoformat(), bench_ms if isinstance(bench_ms, str) else f"{bench_ms:.1f}"]
    lines = [_cells([*stamp, *(row[c] for c in columns)]) for row in rows]
    text = path.read_text(encoding="utf-8").rstrip("\n") if path.exists() else f"# {path.stem}"
    ending = []  # the table the file ends with, if it does
    for line in reversed(text.split("\n")):
        if not line.startswith("|"):
            break
        ending.insert(0, line)
    if not ending or ending[0] != header:
        lines = ["", header, "|" + "---|" * (len(STAMP) + len(columns)), *lines]
    RESULTS.mkdir(exist_ok=True)
    path.write_text(text + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def record(script, rows, args):
    """Append rows to the script's results file (append_rows) with args.bench_ms, measured first when it is None
    (and kept in args for the next call), unless args.no_record. Returns the file's path, or None."""
    if args.no_record or not rows:
        return None
    if args.bench_ms is None:
        args.bench_ms = round(bench_ms(), 1)
    path = append_rows(script, rows, args.bench_ms)
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    print(f"recorded {len(rows)} row(s) in {shown} (bench_ms {args.bench_ms:.1f})", flush=True)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench-ms", type=float, help="use this bench_ms instead of measuring it")
    args = parser.parse_args(argv)
    bench = bench_ms() if args.bench_ms is None else args.bench_ms
    print(f"commit {commit()}, date {datetime.date.today().isoformat()}, bench_ms {bench:.1f}")


if __name__ == "__main__":
    main()
