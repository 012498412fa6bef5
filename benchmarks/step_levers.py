"""What each part of a training step costs, measured by taking it away (issue 31's levers), at make bench's
configuration: every variant trains in the same process, in turn, 8 steps at a time, and the median step is compared
with the unchanged model's. The variants that remove a part (identity GELU, no attention, no LayerNorm) are not
models anyone should train: they bound what making that part faster could save.

    python benchmarks/step_levers.py              # about a minute
    python benchmarks/step_levers.py --threads 1
"""
import argparse
import statistics
import time

import torch
import torch.nn as nn

from run import bench_trainer  # make bench's model and data


class NoAttention(nn.Module):
    """c_attn and c_proj kept (their matmuls stay), the attention between them taken away."""

    def __init__(self, attn):
        super().__init__()
        self.c_attn, self.c_proj = attn.c_attn, attn.c_proj

    def forward(self, x, cache=None, layer=0):
        return self.c_proj(self.c_attn(x)[..., : x.size(-1)])


def without(part):
    def change(model):
        for block in model.transformer.h:
            if part == "gelu":
                block.mlp.gelu = nn.Identity()
            elif part == "attention":
                block.attn = NoAttention(block.attn)
            elif part == "layernorm":
                block.ln_1, block.ln_2 = nn.Identity(), nn.Identity()
    return change


VARIANTS = {  # name: (GPTConfig changes, TrainConfig changes, a change to the built model)
    "unchanged (GPT-2's: tanh GELU, biases)": ({}, {}, None),
    "exact (erf) GELU": ({"activation": "gelu"}, {}, None),
    "no biases": ({"bias": False}, {}, None),
    "nanoGPT's: erf GELU, no biases": ({"activation": "gelu", "bias": False}, {}, None),
    "no gradient clipping": ({}, {"grad_clip": 0.0}, None),
    "without GELU (identity)": ({}, {}, without("gelu")),
    "without attention": ({}, {}, without("attention")),
    "without LayerNorm": ({}, {}, without("layernorm")),
}


def trainer(config_changes, train_changes, change):
    t = bench_trainer(config_changes, max_iters=10**6, **train_changes)
    if change is not None:
        change(t.model)
    return t


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    trainers = {name: trainer(*variant) for name, variant in VARIANTS.items()}
    times = {name: [] for name in trainers}
    for round_ in range(args.rounds + 1):  # the first round warms up
        for name, t in trainers.items():
            for _ in range(8):
                start = time.perf_counter()
                t.step()
                if round_:
                    times[name].append(time.perf_counter() - start)
    base = statistics.median(next(iter(times.values())))
    print(f"{args.threads} thread(s), median ms per step, and the share of the unchanged step it saves:")
    for name, values in times.items():
        ms = statistics.median(values)
        print(f"  {name:40s} {ms * 1e3:6.2f} ms  {(base - ms) / base:6.1%}")


if __name__ == "__main__":
    main()
