"""Speed of the library on this machine, in one table (run with `make bench`).

1. Training throughput on nanoGPT's CPU configuration (4 layers, 4 heads, 128 dims, block 64, batch 12,
   vocabulary 65): milliseconds per Trainer step, tokens per second, and the model-FLOPs rate as a fraction
   of a large fp32 matmul's rate measured in the same run at the same thread count; and the same shape with
   nanoGPT's own architecture (the exact GELU, no biases), which `minigpt train`'s defaults use. Model FLOPs per token
   are 6N + 12 * n_layer * n_embd * block_size (forward and backward, as in the PaLM paper's appendix B).
2. Generation: 500 new tokens from a one-token prompt with a block-256 model of the same shape, with the
   KV cache and with full recomputation of the context at every step.
3. PPO (notebook 06): rollout tokens per second of the shipped SFT model answering a batch of training prompts,
   with the KV cache and with full recomputation; and seconds per PPO step at the notebook's settings
   (zoo.ppo_config()), against the shipped reward model.

Timings are medians over repeats; ratios compare numbers measured in the same run.
"""
import argparse
import statistics
import time

import torch

from minigpt import GPT, GPTConfig, LMData, Trainer, TrainConfig

NANOGPT_CPU = dict(vocab_size=65, block_size=64, n_layer=4, n_head=4, n_embd=128)
BATCH_SIZE = 12
NANOGPT_ARCHITECTURE = dict(activation="gelu", bias=False)  # nanoGPT's own model: the exact GELU, no biases


def matmul_gflops(n=2048, repeats=10):
    """The rate of a large fp32 matmul: what the cores can do when the work is easy to keep busy."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return 2 * n**3 / statistics.median(times) / 1e9


def bench_trainer(config_changes=None, max_iters=1000, **train_changes):
    """A Trainer of the benchmark's model on random tokens: NANOGPT_CPU's shape with the course's model (GPT-2's tanh
    GELU and biases), or with GPTConfig changes such as NANOGPT_ARCHITECTURE; TrainConfig changes as keywords."""
    torch.manual_seed(0)
    config = GPTConfig(**{**NANOGPT_CPU, **(config_changes or {})})
    model = GPT(config)
    tokens = torch.randint(0, config.vocab_size, (200_000,), generator=torch.Generator().manual_seed(0))
    data = LMData(tokens, config.block_size, BATCH_SIZE)
    return Trainer(model, data, TrainConfig(max_iters=max_iters, warmup_iters=10, progress=False, **train_changes))


def training_step_seconds(iters=60, warmup=10, **changes):
    """The median Trainer step of bench_trainer(changes), and its model."""
    trainer = bench_trainer(changes, max_iters=warmup + iters)
    model = trainer.model
    times = []
    for i in range(warmup + iters):
        start = time.perf_counter()
        trainer.step()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return statistics.median(times), model


def bench_ms():
    """bench_ms, the figure the course's runtime rules and the experiments' results scale with: the median time of
    a training step above, in milliseconds, from a short run (a few seconds)."""
    return training_step_seconds(iters=30, warmup=5)[0] * 1e3


def model_flops_per_iter(model):
    from minigpt.model import parameter_count

    c = model.config
    n = parameter_count(model) - model.transformer.wpe.weight.numel()  # N without the position embedding, as nanoGPT
    per_token = 6 * n + 12 * c.n_layer * c.n_embd * c.block_size
    return per_token * c.block_size * BATCH_SIZE


def generation_seconds(use_cache, new_tokens=500, repeats=3):
    torch.manual_seed(0)
    model = GPT(GPTConfig(**{**NANOGPT_CPU, "block_size": 256})).eval()
    prompt = torch.zeros(1, 1, dtype=torch.long)
    model.generate(prompt, 20, use_cache=use_cache)  # warm up
    times = []
    for seed in range(repeats):
        start = time.perf_counter()
        model.generate(prompt, new_tokens, temperature=1.0, use_cache=use_cache,
                       generator=torch.Generator().manual_seed(seed))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def ppo_rollout_tokens_per_second(use_cache, repeats=3):
    from minigpt import tinyworld, zoo
    from minigpt.ppo import rollout

    policy, _ = zoo.load("sft", progress=False)
    config = zoo.ppo_config()
    prompts = [i.prompt for i in tinyworld.instructions(seed=0)["train"][: config.batch_size]]
    rates = []
    for seed in range(repeats):
        start = time.perf_counter()
        roll = rollout(policy, zoo.tokenizer(chat=True), prompts, config.max_new_tokens,
                       generator=torch.Generator().manual_seed(seed), use_cache=use_cache)
        rates.append(roll.mask.sum().item() / (time.perf_counter() - start))
    return statistics.median(rates)


def ppo_step_seconds(steps=3):
    from minigpt import zoo

    trainer = zoo.ppo_trainer(zoo.ppo_config())
    for _ in range(trainer.config.value_warmup):  # these steps train the value model alone: cheaper, not timed
        trainer.step()
    times = []
    for _ in range(steps):
        times.append(trainer.step()["seconds"])
    return statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="*", default=None,
                        help="CPU thread counts to measure training at (default: torch's default, then 1)")
    args = parser.parse_args(argv)
    default_threads = torch.get_num_threads()
    thread_counts = args.threads or sorted({default_threads, 1}, reverse=True)

    rows = []
    for threads in thread_counts:
        torch.set_num_threads(threads)
        matmul_before = matmul_gflops()
        step, model = training_step_seconds()
        matmul = (matmul_before + matmul_gflops()) / 2  # measured around the training run
        model_gflops = model_flops_per_iter(model) / step / 1e9
        rows.append((f"training, {threads} thread(s)", f"{step * 1e3:.1f} ms/iter",
                     f"{BATCH_SIZE * NANOGPT_CPU['block_size'] / step:,.0f} tokens/s",
                     f"{model_gflops:.0f} GFLOP/s = {model_gflops / matmul:.2f} x matmul ({matmul:.0f} GFLOP/s)"))
        nanogpt, _ = training_step_seconds(**NANOGPT_ARCHITECTURE)
        rows.append((f"  nanoGPT's architecture (erf GELU, no biases), {threads}", f"{nanogpt * 1e3:.1f} ms/iter",
                     f"{BATCH_SIZE * NANOGPT_CPU['block_size'] / nanogpt:,.0f} tokens/s",
                     f"{step / nanogpt:.2f}x the course's model"))
    torch.set_num_threads(default_threads)

    cached, full = generation_seconds(True), generation_seconds(False)
    rows.append((f"generation, KV cache, {default_threads} thread(s)", f"{cached:.2f} s / 500 tokens",
                 f"{500 / cached:,.0f} tokens/s", ""))
    rows.append(("generation, full recompute", f"{full:.2f} s / 500 tokens", f"{500 / full:,.0f} tokens/s",
                 f"KV cache is {full / cached:.1f}x faster"))
    cached, full = ppo_rollout_tokens_per_second(True), ppo_rollout_tokens_per_second(False)
    rows.append(("PPO rollouts, KV cache", f"{cached:,.0f} tokens/s", "", ""))
    rows.append(("PPO rollouts, full recompute", f"{full:,.0f} tokens/s", "",
                 f"KV cache is {cached / full:.1f}x faster"))
    rows.append(("PPO step, notebook 06's settings", f"{ppo_step_seconds():.2f} s/step", "", ""))

    print(f"torch {torch.__version__}, {default_threads} default threads; "
          f"nanoGPT CPU config {NANOGPT_CPU}, batch {BATCH_SIZE}")
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())


if __name__ == "__main__":
    main()
