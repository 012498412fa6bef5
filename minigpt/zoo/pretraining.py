"""Pre-training on TinyWorld (notebooks 02-03), and the base model the second half starts from.

Pre-training starts from random weights: no model comes before this stage. Notebook 02 trains its three GPT-2
sizes live (their training is the lesson); notebook 03's in-context learners and the second half's base model
are shipped:

    model, record = pretrained("M")        # notebook 02: trained now (or loaded from your cache)
    model, record = ICL_2LAYER.load()      # notebook 03: the shipped weights (or your cache, or trained now)
    record["curve"]                        # what was measured while it trained, every eval_every steps
"""
from functools import lru_cache

import torch

from ..cache import cached_run
from ..course_tokenizer import tokenizer
from ..data import LMData
from ..incontext import (common_tokens, induction_head_scores, key_match_scores, mapping_prompts, repeated_random_tokens,
                         shot_curve)
from ..model import GPT, GPTConfig
from ..prompting import task_accuracies
from ..tinyworld import context_mapping_task, generate_corpus, tasks
from ..training import Trainer, TrainConfig
from .shipped import Shipped, training_record

SIZES = {  # name -> shape; notebook 02 prints their parameter counts
    "XS": {"n_layer": 1, "n_head": 2, "n_embd": 32},
    "S": {"n_layer": 2, "n_head": 2, "n_embd": 64},
    "M": {"n_layer": 3, "n_head": 4, "n_embd": 128},
}


def recipe(size, *, max_iters=1000, seed=0, vocab_size=1024, block_size=32, batch_size=32, learning_rate=3e-3,
           eval_every=250):
    """Everything that decides what a model of `size` learns, as plain values (the cache's key)."""
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; the sizes are {', '.join(SIZES)}")
    return {"size": size, **SIZES[size], "max_iters": max_iters, "seed": seed, "vocab_size": vocab_size,
            "block_size": block_size, "batch_size": batch_size, "learning_rate": learning_rate,
            "eval_every": eval_every, "corpus_seed": 0}


def train_lm(recipe, measure=None, progress=True, *, text=None, tok=None):
    """Pre-train the GPT a recipe describes on TinyWorld text (or on `text`, encoded by `tok`); returns
    (model, record).

    Settings that the recipe leaves out: warm-up over 100 steps, cosine decay to a tenth of the learning rate,
    10 batches per evaluation, 1.5M characters of text, a tenth of it held out, the batches drawn with the
    recipe's seed.
    measure(model) -> {name: number} runs every eval_every steps; its results form record["curve"], one
    point per evaluation with its "step". record also holds "history", the Trainer's loss history;
    "seconds", the training time; "parameters", the parameter count.
    """
    if text is None:
        tok = tokenizer(recipe["vocab_size"], recipe["corpus_seed"], recipe.get("chat", False))
        text = generate_corpus(seed=recipe["corpus_seed"], n_chars=recipe.get("text_chars", 1_500_000))
    data = LMData(tok.encode(text), recipe["block_size"], recipe["batch_size"],
                  val_fraction=recipe.get("val_fraction", 0.1))
    torch.manual_seed(recipe["seed"])
    model = GPT(GPTConfig(vocab_size=tok.vocab_size, block_size=recipe["block_size"], n_layer=recipe["n_layer"],
                          n_head=recipe["n_head"], n_embd=recipe["n_embd"]))
    curve = []

    def on_eval(trainer):
        figures = measure(trainer.model) if measure else {}
        curve.append({"step": trainer.iter, **figures})
        return figures

    config = TrainConfig(max_iters=recipe["max_iters"], learning_rate=recipe["learning_rate"],
                         min_lr=recipe["learning_rate"] / 10, warmup_iters=recipe.get("warmup_iters", 100),
                         eval_interval=recipe["eval_every"],
                         eval_iters=recipe.get("eval_iters", 10), seed=recipe.get("batch_seed", recipe["seed"]),
                         progress=progress)
    trainer = Trainer(model, data, config, on_eval=on_eval)
    trainer.run()
    return model.eval(), training_record(trainer, model, curve)


def train(recipe, progress=True):
    """Train one of notebook 02's sizes; record["curve"] is the zero-shot accuracy per task on the held-out
    items (every form of each item, tasks(all_forms=True)), measured every eval_every steps."""
    tok, zero_shot = tokenizer(recipe["vocab_size"], recipe["corpus_seed"]), tasks(seed=0, all_forms=True)

    def measure_zero_shot(model):
        accuracies = task_accuracies(model, tok, zero_shot)
        return {**accuracies, "held-out accuracy": sum(accuracies.values()) / len(accuracies)}

    model, record = train_lm(recipe, measure_zero_shot, progress)
    for point in record["curve"]:
        del point["held-out accuracy"]  # the mean was for the log line; the curve keeps the tasks
    return model, record


def pretrained(size, cache_dir=None, progress=True, **options):
    """(model, record) for a size: loaded from the cache when this recipe was trained before, else trained now."""
    return cached_run(recipe(size, **options), lambda r: train(r, progress), cache_dir=cache_dir)


def fit_lm(measure):
    """A Shipped entry's training: pre-training with measure's figures in the record's curve at every evaluation."""
    return lambda recipe, progress=True: train_lm(recipe, measure, progress)


# ---- Notebook 03's in-context learners: two models that differ only in depth --------------------------------

LEX_SHOTS = (0, 1, 2, 4, 8)


def icl_recipe(n_layer, max_iters=6000, seed=0):
    """A small GPT-2 trained long enough for key matching on lex lines to form (it does at steps 3,000-4,000 of
    6,000 with 2 layers; experiments/induction_formation.py). n_layer=1 is the contrast: an induction head needs
    a head in one layer that composes with a head in an earlier one. The batches are drawn with seed 1337, as in
    that experiment."""
    return {"n_layer": n_layer, "n_head": 4, "n_embd": 64, "block_size": 64, "batch_size": 64, "max_iters": max_iters,
            "learning_rate": 3e-3, "eval_every": 250, "eval_iters": 2, "seed": seed, "batch_seed": 1337,
            "vocab_size": 1024, "corpus_seed": 0}


@lru_cache(maxsize=1)
def common_training_tokens():
    """The token ids that occur at least 200 times in the TinyWorld text (encoding it takes a few seconds)."""
    return common_tokens(torch.tensor(tokenizer().encode(generate_corpus(seed=0))), tokenizer().vocab_size, 200)


def induction_probe(n_sequences=16, period=24, seed=1):
    """(n_sequences, 2 * period) token ids: random tokens common in the training text, repeated once."""
    return repeated_random_tokens(n_sequences, period, common_training_tokens(), seed=seed)


def key_match_probe(n_examples=100, seed=3):
    """Lex prompts with 8 demonstrations whose queried key was shown (for incontext.key_match_scores)."""
    return context_mapping_task(seed=seed, n_pairs=8, n_examples=n_examples, query="shown")


def measure_icl(model):
    """Lex-mapping accuracy after k demonstrations (any key of the mapping asked, 200 prompts drawn with seed 1;
    chance 0.25 at k = 0); "in-context score", 8-shot minus 0-shot accuracy; the best head's key-match score
    (incontext.key_match_scores) and its induction score on repeated random tokens."""
    curve = shot_curve(model, tokenizer(), mapping_prompts(query="any"), LEX_SHOTS, seeds=(1,))
    figures = {f"lex {k}-shot": accs[0] for k, accs in curve.items()}
    figures["in-context score"] = figures["lex 8-shot"] - figures["lex 0-shot"]
    figures["key-match score"] = key_match_scores(model, tokenizer(), key_match_probe()).max().item()
    figures["induction score"] = induction_head_scores(model, induction_probe()).max().item()
    return figures


ICL_2LAYER = Shipped("icl-2layer", icl_recipe(2), fit_lm(measure_icl), measure_icl, "in-context score",
                     "notebook 03: 2 layers x 64, learns lex mappings in context (induction heads)")
ICL_1LAYER = Shipped("icl-1layer", icl_recipe(1), fit_lm(measure_icl), measure_icl, "in-context score",
                     "notebook 03: the same with 1 layer, the contrast")


# ---- The second half's base model: pre-trained on TinyWorld with the chat tokens in its vocabulary -----------

def base_recipe(max_iters=2000, seed=0):
    """The pre-trained model that InstructGPT's steps start from (notebooks 04-07): 4 layers x 128, a 128-token
    context (room for a prompt, a response, and later a short dialogue), the chat tokenizer. The chat tokens
    never occur in the TinyWorld text; supervised fine-tuning teaches them."""
    return {"n_layer": 4, "n_head": 4, "n_embd": 128, "block_size": 128, "batch_size": 16, "max_iters": max_iters,
            "learning_rate": 3e-3, "eval_every": 500, "eval_iters": 10, "seed": seed, "vocab_size": 1024,
            "corpus_seed": 0, "chat": True}


def measure_base(model):
    """Notebook 02's zero-shot test on the held-out items (every form of each), per task and their mean."""
    accuracies = task_accuracies(model, tokenizer(chat=True), tasks(seed=0, all_forms=True))
    return {**accuracies, "held-out accuracy": sum(accuracies.values()) / len(accuracies)}


BASE = Shipped("base", base_recipe(), fit_lm(measure_base), measure_base, "held-out accuracy",
               "notebooks 04-07: the pre-trained model InstructGPT's steps start from, with the chat tokens")
