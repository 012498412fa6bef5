"""GPT-4's predictable scaling (notebook 08): one recipe at many sizes, and the big run whose loss they predict.

Like pre-training, this stage starts from random weights: each run is pretraining.train_lm on notebook 08's
recipe. The family is trained live (or loaded from your cache); the run 100x bigger is shipped as 'scaling-big':

    model, record = scaling_run(2, 32)          # one of the family: record["figures"]["validation loss"]
    model, record = SCALING_BIG_RUN.load()      # the big run
"""
from functools import lru_cache

import torch

from ..cache import cached_run
from ..course_tokenizer import tokenizer
from ..model import GPT, GPTConfig, parameter_count
from ..prompting import accuracy
from ..scaling import answer_logprob
from ..tinyworld import generate_corpus, tasks
from ..training import validation_loss
from .pretraining import fit_lm
from .shipped import Shipped

SCALING_FAMILY = ((2, 24), (2, 32), (2, 40), (2, 48), (2, 56))  # (n_layer, n_embd): the runs the law is fitted to
SCALING_BIG = (2, 184)  # the shipped model whose loss the fit predicts: the same recipe, 113x the largest run's compute
TOKENS_PER_PARAMETER = 20  # D = 20 N: Chinchilla's compute-optimal ratio
SCALING_BATCH = 8  # sequences of 64 tokens per step
CHARS_PER_TOKEN = 3.3  # a little over the TinyWorld text's ~3.14 characters per BPE token: each run reads fresh text


def shape_parameters(n_layer, n_embd):
    """N (the non-embedding parameters) of a shape of the family: the model built on PyTorch's meta device, which
    allocates and initialises nothing, and counted (each block has 12 d^2 + 13 d, the final LayerNorm 2 d)."""
    with torch.device("meta"):
        model = GPT(GPTConfig(vocab_size=1024, block_size=64, n_layer=n_layer, n_head=n_embd // 8, n_embd=n_embd))
    return parameter_count(model, embeddings=False)


def scaling_recipe(n_layer, n_embd, tokens=None, seed=0):
    """One recipe for every size, as GPT-4's report asks of methods that scale predictably: head size 8, context
    64, batch 8, D tokens (default 20 N) of TinyWorld text read about once, AdamW at learning rate 0.64 / n_embd
    (wider models take smaller steps: 0.02 at width 32, 0.0035 at 184), warmup over the first tenth, cosine to a
    tenth."""
    n = shape_parameters(n_layer, n_embd)
    steps = max(10, round((tokens or TOKENS_PER_PARAMETER * n) / (SCALING_BATCH * 64)))
    return {"n_layer": n_layer, "n_head": n_embd // 8, "n_embd": n_embd, "non_embedding_parameters": n,
            "tokens": steps * SCALING_BATCH * 64, "max_iters": steps, "warmup_iters": steps // 10,
            "batch_size": SCALING_BATCH, "block_size": 64, "learning_rate": round(0.64 / n_embd, 6),
            "text_chars": round(CHARS_PER_TOKEN * steps * SCALING_BATCH * 64), "eval_every": steps, "eval_iters": 2,
            "seed": seed, "vocab_size": 1024, "corpus_seed": 0}


@lru_cache(maxsize=1)
def scaling_validation_tokens():
    """The one validation text every run of notebook 08 is measured on: TinyWorld text of another seed (63k
    tokens), never trained on."""
    return tokenizer().encode(generate_corpus(seed=2023, n_chars=200_000))


def scaling_capability():
    """The capability notebook 08 predicts: the plurals of the nouns whose plural the training text never states
    (every form of each, notebook 02's held-out plurals). A model must generalise English's plural rules."""
    return tasks(seed=0, all_forms=True)["plurals"].heldout


def measure_scaling(model):
    """The run's validation loss on the fixed text, and the plural capability: the mean log-probability of the
    right plural, and the accuracy."""
    tok, examples = tokenizer(), scaling_capability()
    return {"validation loss": validation_loss(model, scaling_validation_tokens()),
            "plural log-probability": answer_logprob(model, tok, examples),
            "plural accuracy": accuracy(model, tok, examples)}


SCALING_BIG_RUN = Shipped("scaling-big", scaling_recipe(*SCALING_BIG), fit_lm(None), measure_scaling,
                          "validation loss", "notebook 08: the run 100x bigger than the family, whose loss the fit "
                          "predicts", quick={"max_iters": 4, "eval_every": 2, "warmup_iters": 1, "text_chars": 100_000})


def train_scaling(recipe, progress=True):
    """(model, record) of a run of notebook 08's recipe, trained and measured as the shipped big run is."""
    return SCALING_BIG_RUN.train(recipe, progress)


def scaling_run(n_layer, n_embd, *, tokens=None, seed=0, cache_dir=None, progress=True):
    """(model, record) of one run of the family (scaling_recipe), trained now or loaded from your cache;
    record["figures"] holds its validation loss and plural figures, record["seconds"] its training time."""
    return cached_run(scaling_recipe(n_layer, n_embd, tokens, seed), lambda r: train_scaling(r, progress),
                      cache_dir=cache_dir)
