"""The TinyWorld GPT-2s of notebooks 02 and 03: one training recipe in three sizes, trained once, cached.

    tokenizer = zoo.tokenizer()            # byte-level BPE with 1,024 tokens, trained on TinyWorld
    model, record = zoo.pretrained("M")    # trained now (about 30 s on 2 cores), or loaded from the cache
    record["curve"]                        # zero-shot accuracy on the held-out items, per task, every 250 steps

The sizes differ only in depth and width; data, steps, batch and learning rate are the same, so any
difference in what they can do comes from their size. Each is GPT-2's architecture (pre-LN, a final
LayerNorm, scaled initialisation of the residual projections), trained on generate_corpus(seed=0).
"""
from functools import lru_cache

import torch

from .bpe import BPETokenizer
from .cache import cached_run
from .data import LMData
from .model import GPT, GPTConfig
from .prompting import task_accuracies
from .tinyworld import generate_corpus, tasks
from .training import Trainer, TrainConfig

SIZES = {  # name -> shape; the parameter counts are printed by parameter_count
    "XS": {"n_layer": 1, "n_head": 2, "n_embd": 32},
    "S": {"n_layer": 2, "n_head": 2, "n_embd": 64},
    "M": {"n_layer": 3, "n_head": 4, "n_embd": 128},
}


def recipe(size, max_iters=1000, seed=0, vocab_size=1024, block_size=32, batch_size=32, learning_rate=3e-3,
           eval_every=250):
    """Everything that decides what a model of `size` learns, as plain values (the cache's key)."""
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; the sizes are {', '.join(SIZES)}")
    return {"size": size, **SIZES[size], "max_iters": max_iters, "seed": seed, "vocab_size": vocab_size,
            "block_size": block_size, "batch_size": batch_size, "learning_rate": learning_rate,
            "eval_every": eval_every, "corpus_seed": 0}


@lru_cache(maxsize=4)
def tokenizer(vocab_size=1024, corpus_seed=0):
    """The byte-level BPE of these models, trained on the TinyWorld text (deterministic, under a second)."""
    return BPETokenizer().train(generate_corpus(seed=corpus_seed), vocab_size)


def train(recipe, progress=True):
    """Train the model a recipe describes; returns (model, record).

    record: "curve", the zero-shot accuracy per task on the held-out items (every form of each item,
    tasks(all_forms=True)), measured every eval_every steps; "history", the Trainer's loss history;
    "seconds", the training time; "parameters", the parameter count.
    """
    tok = tokenizer(recipe["vocab_size"], recipe["corpus_seed"])
    data = LMData(tok.encode(generate_corpus(seed=recipe["corpus_seed"])), recipe["block_size"], recipe["batch_size"])
    torch.manual_seed(recipe["seed"])
    model = GPT(GPTConfig(vocab_size=tok.vocab_size, block_size=recipe["block_size"], n_layer=recipe["n_layer"],
                          n_head=recipe["n_head"], n_embd=recipe["n_embd"]))
    zero_shot, curve = tasks(seed=0, all_forms=True), []

    def measure_zero_shot(trainer):
        accuracies = task_accuracies(trainer.model, tok, zero_shot)
        curve.append({"step": trainer.iter, **accuracies})
        return {"held-out accuracy": sum(accuracies.values()) / len(accuracies)}

    config = TrainConfig(max_iters=recipe["max_iters"], learning_rate=recipe["learning_rate"],
                         min_lr=recipe["learning_rate"] / 10, warmup_iters=100, eval_interval=recipe["eval_every"],
                         eval_iters=10, seed=recipe["seed"], progress=progress)
    trainer = Trainer(model, data, config, on_eval=measure_zero_shot)
    trainer.run()
    if trainer.interrupted:  # a half-trained model must not be cached under the full recipe
        raise KeyboardInterrupt(f"training stopped at step {trainer.iter} of {recipe['max_iters']}; nothing was cached")
    record = {"curve": curve, "history": {k: list(v) for k, v in trainer.history.items()},
              "seconds": trainer.elapsed, "parameters": parameter_count(model)}
    return model.eval(), record


def pretrained(size, cache_dir=None, progress=True, **options):
    """(model, record) for a size: loaded from the cache when this recipe was trained before, else trained now."""
    return cached_run(recipe(size, **options), lambda r: train(r, progress), cache_dir)


def parameter_count(model):
    """Number of parameters (the tied token embedding counted once)."""
    return sum(p.numel() for p in model.parameters())
