"""GPT-4's predictable scaling (notebook 08): one recipe at many widths on the long-tailed world, the runs 3x to 100x
bigger whose losses the small ones predict, and the first world of this notebook, where the law bends.

Like pre-training, this stage starts from random weights: no model comes before it. Each run is a character-level
GPT trained on fresh text of tinyworld.LongTailWorld and measured on one fixed set of validation lines, each read
after a newline, so that the floor of its loss (the text's entropy per character) is computed exactly by the
generator. The family is trained live (or loaded from your cache); the bigger runs are shipped:

    model, record = scaling_run(48)               # one of the family: record["figures"]["validation loss"]
    model, record = SCALING_BIG_RUN.load()        # the run 100x the family's largest compute
    _, record = SCALING_TINYWORLD.load()          # record["runs"]: TinyWorld's family and its big run, measured
"""
from functools import lru_cache

import torch

from ..cache import cached_run
from ..course_tokenizer import tokenizer
from ..model import GPT, GPTConfig, parameter_count
from ..prompting import accuracy, continuations_logprobs
from ..scaling import answer_logprob, training_flops
from ..tinyworld import generate_corpus, tasks
from ..tinyworld.longtail import ALPHABET, LongTailWorld
from ..tokenizers import CharTokenizer
from ..training import validation_loss
from .pretraining import train_lm
from .shipped import Shipped

SCALING_WORLD = {"people": 50_000, "exponent": 1.0, "attributes": 6, "values": 24, "seed": 0}
SCALING_FAMILY = (48, 56, 64)  # the widths of the runs the law is fitted to (2 layers each)
SCALING_LADDER = (88, 120, 160)  # shipped records: 3.3x, 11x and 33x the family's largest compute
SCALING_BIG = 216  # the shipped run whose loss the family predicts: 105x the family's largest compute
TOKENS_PER_PARAMETER = 20  # D = 20 N characters: Chinchilla's ratio
LEARNING_RATE_SCALE = 0.64  # learning rate = 0.64 / width
SCALING_CONTEXT, SCALING_BATCH = 128, 8  # characters per sequence (a line is about 97), sequences per step
VALIDATION = {"lines": 3000, "seed": 2023}
BUCKETS = ((0, 100), (100, 1000), (1000, 10_000), (10_000, None))  # people by rank, most frequent first


def bucket_name(lo, hi):
    return f"{lo}-{hi if hi is not None else ''}"


@lru_cache(maxsize=4)
def _world(items):
    return LongTailWorld(**dict(items))


def scaling_world(world=None):
    """The LongTailWorld of a recipe's "world" (default SCALING_WORLD), built once per session."""
    return _world(tuple(sorted((world or SCALING_WORLD).items())))


def scaling_tokenizer():
    """One token per character of the world's text (30 of them)."""
    return CharTokenizer(ALPHABET)


def _parameters(config):
    """N, the non-embedding parameters of a config (the model built on PyTorch's meta device, which allocates
    nothing)."""
    with torch.device("meta"):
        return parameter_count(GPT(config), embeddings=False)


def _config(n_embd, n_layer=2):
    """A width's GPTConfig: heads of 8 dimensions, one token per character, a context of 128."""
    return GPTConfig(vocab_size=len(ALPHABET), block_size=SCALING_CONTEXT, n_layer=n_layer, n_head=n_embd // 8,
                     n_embd=n_embd)


def shape_parameters(n_embd, n_layer=2):
    """N, the non-embedding parameters of a width."""
    return _parameters(_config(n_embd, n_layer))


def scaling_recipe(n_embd, *, tokens=None, seed=0, world=None, n_layer=2, tokens_per_parameter=TOKENS_PER_PARAMETER,
                   lr_scale=LEARNING_RATE_SCALE):
    """One recipe for every width, as GPT-4's report asks of methods that scale predictably: 2 layers, heads of 8
    dimensions, a context of 128 characters, batches of 8, D = 20 N characters of fresh text (read once), AdamW at
    learning rate 0.64 / width (wider models take smaller steps), warm-up over the first tenth, cosine to a tenth.
    tokens overrides D (notebook 08's iso-compute runs); seed changes the initialisation, the text and its order."""
    config = _config(n_embd, n_layer)
    n = _parameters(config)
    steps = max(20, round((tokens or tokens_per_parameter * n) / (SCALING_BATCH * SCALING_CONTEXT)))
    tokens = steps * SCALING_BATCH * SCALING_CONTEXT
    return {"world": dict(world or SCALING_WORLD), "n_layer": n_layer, "n_head": n_embd // 8, "n_embd": n_embd,
            "non_embedding_parameters": n, "tokens": tokens, "flops": training_flops(config, tokens),
            "max_iters": steps, "warmup_iters": steps // 10, "batch_size": SCALING_BATCH,
            "block_size": SCALING_CONTEXT, "learning_rate": round(lr_scale / n_embd, 7), "eval_every": steps,
            "eval_iters": 1, "val_fraction": 0.02, "seed": seed, "text_seed": 1 + 1000 * seed}


def scaling_text(recipe):
    """The recipe's training text: enough fresh lines of its world for its tokens, and a fiftieth more to hold
    out (the Trainer's own validation split)."""
    world = scaling_world(recipe["world"])
    line = sum(len(text) + 1 for _, text in world.lines(200, seed=recipe["text_seed"])) / 200
    return world.text(round(recipe["tokens"] * 1.15 / line) + 200, seed=recipe["text_seed"])


def fit_scaling(recipe, progress=True):
    """(model, record) of a run of notebook 08's recipe: pre-training (zoo.pretraining.train_lm) on the recipe's
    text, one character per token. The record keeps the training loss at 1,000 steps at most (a curve to plot)."""
    model, record = train_lm(recipe, progress=progress, text=scaling_text(recipe), tok=scaling_tokenizer())
    every = max(1, len(record["history"]["loss"]) // 1000)
    return model, {**record, "history": {k: v[::every] for k, v in record["history"].items()}, "every": every}


def train_scaling(recipe, progress=True):
    """fit_scaling, with record["figures"] measured by measure_scaling on the recipe's world."""
    model, record = fit_scaling(recipe, progress)
    return model, {**record, "figures": measure_scaling(model, recipe["world"])}


def scaling_run(n_embd, *, tokens=None, seed=0, cache_dir=None, progress=True):
    """(model, record) of one run of the family (scaling_recipe), trained now or loaded from your cache."""
    return cached_run(scaling_recipe(n_embd, tokens=tokens, seed=seed), lambda r: train_scaling(r, progress),
                      cache_dir=cache_dir)


def validation_lines(world=None):
    """The lines every run of a world is measured on: VALIDATION["lines"] lines of another seed than any
    training text's, as (person, line) pairs."""
    return scaling_world(world).lines(VALIDATION["lines"], seed=VALIDATION["seed"])


def line_nats(model, lines):
    """For each (person, line): the nats the model pays for each character of the line and the newline after it,
    the line read after a newline (a (len(line) + 1,) tensor)."""
    pairs = [("\n", line + "\n") for _, line in lines]
    return [-logprobs for logprobs in continuations_logprobs(model, scaling_tokenizer(), pairs)]


def measure_scaling(model, world=None):
    """What notebook 08 reads from a run's weights, on validation_lines:
        validation loss      nats per character (the lines and their newlines), and its floor, the text's entropy
        name excess          nats per character paid on names (and the space that ends them) beyond -log p(person)
        fact nats            nats per character paid on the facts' values: what is left to learn of the world
        answer nats B        GPT-4's capability form: -E[log p(answer)], the nats of a fact's value given the
                             name and the facts before it, averaged over the facts of the people of rank bucket B
        facts known B        the share of those facts whose value gets even odds or better"""
    world, lines = scaling_world(world), validation_lines(world)
    nats = line_nats(model, lines)
    characters = sum(len(line) + 1 for _, line in lines)
    names = sum(float(n[: len(world.names[person]) + 1].sum()) - world.nats(person) for n, (person, _) in
                zip(nats, lines))
    answers = [[] for _ in BUCKETS]
    for n, (person, _) in zip(nats, lines):
        bucket = next(i for i, (lo, hi) in enumerate(BUCKETS) if hi is None or person < hi)
        answers[bucket] += [float(n[start : start + len(value)].sum()) for _, value, start in world.answers(person)]
    figures = {"validation loss": float(sum(n.sum() for n in nats)) / characters, "floor": world.floor(lines),
               "name excess": names / characters, "fact nats": sum(map(sum, answers)) / characters}
    for (lo, hi), values in zip(BUCKETS, answers):
        if not values:  # a world of fewer people than the bucket's ranks
            continue
        figures[f"answer nats {bucket_name(lo, hi)}"] = sum(values) / len(values)
        figures[f"facts known {bucket_name(lo, hi)}"] = sum(v < 0.6931 for v in values) / len(values)
    return figures


SCALING_BIG_RUN = Shipped("scaling-big", scaling_recipe(SCALING_BIG), fit_scaling, measure_scaling,
                          "validation loss", "notebook 08: the run 100x the family's compute, whose loss it predicts",
                          quick={"max_iters": 4, "eval_every": 2, "warmup_iters": 1, "tokens": 4096})


def fit_runs(train):
    """A Shipped entry's training for several runs, recipe["runs"], each by train(run, progress) -> (model,
    record with figures): (the first run's model, the first run's record, whose "runs" holds every run's recipe,
    figures and seconds). Only the first model ships; the others' figures do."""
    def fit(recipe, progress=True):
        trained = [train(run, progress) for run in recipe["runs"]]
        runs = [{"recipe": run, "figures": record["figures"], "seconds": record["seconds"]}
                for run, (_, record) in zip(recipe["runs"], trained)]
        model, record = trained[0]
        return model, {**record, "runs": runs}
    return fit


SCALING_LADDER_RUNS = Shipped("scaling-ladder", {"runs": [scaling_recipe(w) for w in SCALING_LADDER]},
                              fit_runs(train_scaling), measure_scaling, "validation loss",
                              "notebook 08: runs 3x, 10x and 30x the family's compute (their measured figures)",
                              quick={"runs": [{**scaling_recipe(SCALING_LADDER[0]), "max_iters": 4, "eval_every": 2,
                                               "warmup_iters": 1, "tokens": 4096}]})


# ---- The contrast: TinyWorld, the world this notebook first scaled on, which runs out of things to learn -------

TINYWORLD_FAMILY = ((2, 24), (2, 32), (2, 40), (2, 48), (2, 56))  # (n_layer, n_embd)
TINYWORLD_BIG = (2, 184)  # 113x the compute of the family's largest run


def tinyworld_parameters(n_layer, n_embd):
    """N (the non-embedding parameters) of a TinyWorld shape: 12 d^2 + 13 d per block, 2 d for the final LayerNorm."""
    return _parameters(GPTConfig(vocab_size=1024, block_size=64, n_layer=n_layer, n_head=n_embd // 8, n_embd=n_embd))


def tinyworld_recipe(n_layer, n_embd, tokens=None, seed=0):
    """The same recipe on TinyWorld text with the course's BPE tokenizer: head size 8, context 64 tokens, batch 8,
    D tokens (default 20 N) read about once, AdamW at 0.64 / n_embd, warm-up over a tenth, cosine to a tenth."""
    n = tinyworld_parameters(n_layer, n_embd)
    steps = max(10, round((tokens or TOKENS_PER_PARAMETER * n) / (SCALING_BATCH * 64)))
    return {"n_layer": n_layer, "n_head": n_embd // 8, "n_embd": n_embd, "non_embedding_parameters": n,
            "tokens": steps * SCALING_BATCH * 64, "max_iters": steps, "warmup_iters": steps // 10,
            "batch_size": SCALING_BATCH, "block_size": 64, "learning_rate": round(0.64 / n_embd, 6),
            "text_chars": round(3.3 * steps * SCALING_BATCH * 64), "eval_every": steps, "eval_iters": 2,
            "seed": seed, "vocab_size": 1024, "corpus_seed": 0}  # 3.3 characters per token: each run reads fresh text


@lru_cache(maxsize=1)
def tinyworld_validation_tokens():
    """TinyWorld text of another seed (63k tokens), never trained on."""
    return tokenizer().encode(generate_corpus(seed=2023, n_chars=200_000))


def tinyworld_capability():
    """Notebook 02's held-out plurals, in every form: a capability measured on TinyWorld runs."""
    return tasks(seed=0, all_forms=True)["plurals"].heldout


def measure_tinyworld(model):
    """A TinyWorld run's validation loss on the fixed text, and its plurals' mean log-probability and accuracy."""
    tok, examples = tokenizer(), tinyworld_capability()
    return {"validation loss": validation_loss(model, tinyworld_validation_tokens()),
            "plural log-probability": answer_logprob(model, tok, examples),
            "plural accuracy": accuracy(model, tok, examples)}


def train_tinyworld(recipe, progress=True):
    """(model, record) of a TinyWorld run: pre-training (zoo.pretraining.train_lm), figures by measure_tinyworld."""
    model, record = train_lm(recipe, progress=progress)
    return model, {**record, "figures": measure_tinyworld(model)}


def tinyworld_run(recipe, *, cache_dir=None, progress=True):
    """(model, record) of a TinyWorld run of a tinyworld_recipe, trained now or loaded from your cache."""
    return cached_run(recipe, lambda r: train_tinyworld(r, progress), cache_dir=cache_dir)


# each run taken from your cache when it is there (the big one took half an hour)
SCALING_TINYWORLD = Shipped("scaling-tinyworld", {"runs": [tinyworld_recipe(*shape) for shape in
                                                           TINYWORLD_FAMILY + (TINYWORLD_BIG,)]},
                            fit_runs(lambda run, progress: tinyworld_run(run, progress=progress)), measure_tinyworld,
                            "validation loss",
                            "notebook 08: the contrast, TinyWorld's family and its run 113x bigger (their figures)",
                            quick={"runs": [tinyworld_recipe(1, 16, tokens=4096)]})
