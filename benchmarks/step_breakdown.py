"""Where a training step's time goes on this machine (issue 31's first question), at nanoGPT's CPU configuration.

1. The Trainer's step time, and PyTorch's profiler's share of it by operator (the matmuls, GELU, attention, copies,
   the optimizer, the clipping's norms), over 20 steps.
2. GELU, the activation GPT-2 uses (the tanh approximation), against the exact (erf) GELU and ReLU on the MLP's
   activations of one step, forward and forward + backward: a kernel that is slow on a CPU build shows here.

    python benchmarks/step_breakdown.py            # about 20 s
    python benchmarks/step_breakdown.py --threads 1
"""
import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile

from run import BATCH_SIZE, NANOGPT_CPU, bench_trainer  # make bench's configuration


def step_shares(steps=20):
    """(median ms per step, [(operator, share of the profiled CPU time)]) over `steps` steps after a warm-up."""
    t = bench_trainer()
    for _ in range(10):
        t.step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        t.step()
        times.append(time.perf_counter() - start)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            t.step()
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    shares = sorted(((e.key, e.self_cpu_time_total / total) for e in events), key=lambda kv: -kv[1])
    return statistics.median(times) * 1e3, shares


def activation_microseconds(fn, x, repeats=100):
    """(forward, forward + backward) in microseconds, medians, for fn on x."""
    grad = torch.ones_like(fn(x))
    for _ in range(5):
        fn(x).backward(grad)
    forward, both = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        y = fn(x)
        forward.append(time.perf_counter() - start)
        start = time.perf_counter()
        fn(x).backward(grad)
        both.append(time.perf_counter() - start)
    return statistics.median(forward) * 1e6, statistics.median(both) * 1e6


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    ms, shares = step_shares()
    print(f"{args.threads} thread(s): {ms:.1f} ms per step; the profiler's shares by operator:")
    for name, share in shares[:12]:
        print(f"  {share:6.1%}  {name[:70]}")
    x = torch.randn(BATCH_SIZE * NANOGPT_CPU["block_size"], 4 * NANOGPT_CPU["n_embd"], requires_grad=True)
    print("one MLP activation of a step (768 x 512): forward, forward + backward (microseconds)")
    for name, fn in (("GELU, tanh (GPT-2's)", lambda v: F.gelu(v, approximate="tanh")), ("GELU, erf", F.gelu),
                     ("ReLU", F.relu)):
        forward, both = activation_microseconds(fn, x)
        print(f"  {name:<22} {forward:7.0f} {both:7.0f}")


if __name__ == "__main__":
    main()
