"""`minigpt train`'s defaults against nanoGPT's CPU recipe on the same text, run in turn on this machine (issue 31).

    python benchmarks/train_defaults.py --text fortunes.txt            # about 2 minutes a pair
    python benchmarks/train_defaults.py --text fortunes.txt --pairs 2

The text is one the project does not ship, for example Debian's fortunes (apt install fortunes), the first megabyte:
    cat $(ls -d /usr/share/games/fortunes/* | grep -v '\\.dat$\\|\\.u8$' | sort) | head -c 1000000 > fortunes.txt

Each run is the whole command, start-up included, timed from outside. The loss is the command's own last validation
line (20 fixed batches), and the mean loss over the whole validation split in non-overlapping windows of 64
characters, computed here from the checkpoint, the same windows for both.
"""
import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from minigpt.checkpoint import load_model
from minigpt.data import LMData, load_text
from minigpt.tokenizers import load_tokenizer
from minigpt.training import validation_loss

# nanoGPT's README command for a CPU (train_shakespeare_char with these overrides), in minigpt train's options
NANOGPT_RECIPE = ["--n-layer", "4", "--n-head", "4", "--n-embd", "128", "--block-size", "64", "--batch-size", "12",
                  "--max-iters", "2000", "--dropout", "0", "--learning-rate", "1e-3", "--min-lr", "1e-4",
                  "--warmup-iters", "100", "--bias", "--activation", "gelu_tanh"]


def run(text, out, options):
    """(wall seconds, the last printed validation loss) of one `minigpt train` command."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "minigpt", "train", "--text", text, "--out", out, "--no-progress",
                           *options], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode:
        raise RuntimeError(f"minigpt train failed:\n{done.stderr[-2000:]}")
    return seconds, float(re.findall(r"val loss ([0-9.]+)", done.stdout)[-1])


def whole_validation_loss(text, out):
    tokenizer, model = load_tokenizer(out), load_model(out)
    data = LMData(tokenizer.encode(load_text(text)), 64, 12)  # the split minigpt train made
    return validation_loss(model, data.splits["val"], block_size=64)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text", required=True)
    parser.add_argument("--pairs", type=int, default=1)
    args = parser.parse_args(argv)
    rows = {"defaults": [], "nanoGPT's recipe": []}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.pairs):  # in turn, so that a drift in the machine's speed hits both
            for name, options in (("defaults", []), ("nanoGPT's recipe", NANOGPT_RECIPE)):
                out = str(Path(tmp) / name.split("'")[0])
                seconds, printed = run(args.text, out, options)
                rows[name].append((seconds, printed, whole_validation_loss(args.text, out)))
                print(f"{name:18s} {seconds:6.1f} s  val loss printed {printed:.4f}, whole split {rows[name][-1][2]:.4f}",
                      flush=True)
    ratio = [a[0] / b[0] for a, b in zip(rows["defaults"], rows["nanoGPT's recipe"])]
    print(f"wall time, defaults / nanoGPT's recipe, pair by pair: {', '.join(f'{r:.3f}' for r in ratio)}")


if __name__ == "__main__":
    main()
