"""What a larger backbone would cost notebook 06: seconds per PPO step at its settings (zoo.ppo_config()) for
backbone shapes, policy and reward model alike (InstructGPT's reward model is the SFT model).

    python benchmarks/ppo_step_cost.py                       # 4 x 128 (the shipped shape), then 6 x 192
    python benchmarks/ppo_step_cost.py --shapes 4x128 8x256

The models are randomly initialised, so every shape writes full 40-token responses and the times compare; the
shipped SFT model stops sooner (make bench's PPO row). Median of 3 steps after one to warm up.

Measured on 2026-12-02 (2 threads; `make bench` 49.4 ms/step), in two runs: 4 x 128 (0.94M parameters) 1.91-2.65 s
a step, 6 x 192 (2.89M) 5.55-5.64 s, 2.1-2.9 times as much. Sixty PPO steps at 6 x 192 take about 335 s, past
notebook 06's whole budget at that bench_ms (120 s x 49.4 / 30 = 198 s).
"""
import argparse
import copy
import statistics
import time

import torch

from minigpt import GPT, GPTConfig, tinyworld, zoo
from minigpt.ppo import PPOTrainer
from minigpt.reward import RewardModel


def step_seconds(n_layer, n_embd, repeats=3):
    from minigpt.model import parameter_count

    tok = zoo.tokenizer(chat=True)
    torch.manual_seed(0)
    config = GPTConfig(vocab_size=tok.vocab_size, block_size=128, n_layer=n_layer, n_head=4, n_embd=n_embd)
    policy = GPT(config)
    prompts = [i.prompt for i in tinyworld.instructions(seed=0)["train"]]
    trainer = PPOTrainer(copy.deepcopy(policy), policy, RewardModel(GPT(config), tok), tok, prompts=prompts,
                         config=zoo.ppo_config())
    trainer.step()  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        trainer.step()
        times.append(time.perf_counter() - start)
    return statistics.median(times), parameter_count(policy)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", nargs="+", default=["4x128", "6x192"], help="n_layer x n_embd")
    for shape in parser.parse_args(argv).shapes:
        n_layer, n_embd = map(int, shape.split("x"))
        seconds, parameters = step_seconds(n_layer, n_embd)
        print(f"{n_layer} x {n_embd}: {parameters / 1e6:.2f}M parameters, {seconds:.2f} s per PPO step", flush=True)


if __name__ == "__main__":
    main()
