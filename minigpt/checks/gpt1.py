"""Checkers for the GPT-1 exercises (solutions/01_gpt1_exercises.ipynb): the next-token loss of
pre-training, and two pieces of fine-tuning, the entailment input and the auxiliary loss.
The sampling step has its own module, sampling.py."""
from functools import partial

import torch
import torch.nn.functional as F

from ..finetune import auxiliary_loss, entailment_input
from .core import VIEW_HINT, Mistake, random_tensor, run_check

# ---- The next-token loss: -L1, averaged ---------------------------------------------------------


def _next_token_loss(logits, tokens):
    """The mean over t = 0 … T-2 (and the batch) of -log softmax(logits[:, t])[tokens[:, t + 1]]."""
    V = logits.size(-1)
    return F.cross_entropy(logits[:, :-1].reshape(-1, V), tokens[:, 1:].reshape(-1))  # (B*(T-1), V) vs (B*(T-1),)


def _loss_variant(logits, tokens, *, shift="forward", score="log_softmax", dim=-1, slice_first=False, total="mean"):
    """The next-token loss with a knob for each way of getting it wrong (the defaults are right)."""
    pairs = {"forward": (slice(None, -1), slice(1, None)), "none": (slice(None), slice(None)),
             "backward": (slice(1, None), slice(None, -1))}
    predict, target = pairs[shift]
    if slice_first:
        logits = logits[:, predict]
    scores = {"log_softmax": torch.log_softmax(logits, dim=dim), "softmax": torch.softmax(logits, dim=dim),
              "raw": logits}[score]
    if not slice_first:
        scores = scores[:, predict]
    picked = scores.gather(-1, tokens[:, target].unsqueeze(-1)).squeeze(-1)  # (B, T-1): the true next token's score
    return -(picked.sum() if total == "sum" else picked.mean())


WRONG_AXIS = ("takes the softmax over the wrong axis: over the positions (dim=1) instead of the vocabulary. "
              "Each position's probabilities for the next token must sum to 1 over the V tokens, so use dim=-1.")

LOSS_MISTAKES = [
    Mistake("no shift", "looks like it has no shift: each position is scored on its own token, which it can "
            "already see. Position t predicts token t + 1: pair logits[:, :-1] with tokens[:, 1:].",
            partial(_loss_variant, shift="none")),
    Mistake("shifted the wrong way", "shifts the wrong way: it scores position t + 1 on token t, the past. "
            "Position t predicts token t + 1: pair logits[:, :-1] with tokens[:, 1:].",
            partial(_loss_variant, shift="backward")),
    Mistake("sum", "returns the sum over the positions instead of the mean: the loss would grow with the batch "
            "and the context length. Average over all B * (T - 1) predictions.", partial(_loss_variant, total="sum")),
    Mistake("sign flipped", "returns the mean log-probability, the average of L1 itself, which is negative: a loss "
            "is minimised, so return minus that (the negative log-likelihood).",
            lambda logits, tokens: -_next_token_loss(logits, tokens)),
    Mistake("probabilities", "averages the probabilities of the next tokens instead of their log-probabilities: "
            "L1 sums log P. Use log_softmax (more accurate than the log of a softmax).",
            partial(_loss_variant, score="softmax")),
    Mistake("raw logits", "uses the raw logits as if they were log-probabilities: apply log_softmax over the "
            "vocabulary first, so that the scores of each position become log P and sum to 1 as probabilities.",
            partial(_loss_variant, score="raw")),
    Mistake("softmax over time", WRONG_AXIS, partial(_loss_variant, dim=1)),
    Mistake("softmax over time after the slice", WRONG_AXIS, partial(_loss_variant, dim=1, slice_first=True)),
    Mistake("softmax over the batch", "takes the softmax over the wrong axis: over the batch (dim=0) instead of "
            "the vocabulary. Use dim=-1.", partial(_loss_variant, dim=0)),
]

CROSS_ENTROPY_HINT = ("Expected target size", "F.cross_entropy wants the classes (the vocabulary) on dim 1: flatten "
                      "the logits to (B*(T-1), V) and the targets to (B*(T-1),) with .reshape first")


def _loss_inputs():
    g = torch.Generator().manual_seed(0)
    cases = [(2, 6, 7, torch.float32), (3, 5, 11, torch.float64), (4, 9, 3, torch.float32), (1, 2, 5, torch.float32)]
    return [(2 * random_tensor(g, (B, T, V), dtype), torch.randint(V, (B, T), generator=g)) for B, T, V, dtype in cases]


def check_next_token_loss(fn):
    """Check fn(logits, tokens) -> the scalar mean of -log softmax(logits[:, t])[tokens[:, t + 1]], t < T - 1."""
    return run_check("next_token_loss", fn, _loss_inputs, _next_token_loss, mistakes=LOSS_MISTAKES,
                     hints=[VIEW_HINT, CROSS_ENTROPY_HINT])


# ---- Fine-tuning: the entailment input and the auxiliary loss ----------------------------------


ENTAILMENT_MISTAKES = [
    Mistake("nested lists", "puts the premise and the hypothesis into the list as two lists, not as their tokens: "
            "unpack them, [start_id, *premise_ids, ...], or concatenate lists with +.",
            lambda p, h, s, d, e: [s, p, d, h, e]),
    Mistake("missing start", "leaves out the <start> token at the front.", lambda p, h, s, d, e: [*p, d, *h, e]),
    Mistake("missing delimiter", "leaves out the <delim> token between the premise and the hypothesis: without it "
            "the model cannot tell where one text ends and the other begins.", lambda p, h, s, d, e: [s, *p, *h, e]),
    Mistake("missing extract", "leaves out the <extract> token at the end: the classifier reads the hidden state "
            "of the last token, which must be <extract>.", lambda p, h, s, d, e: [s, *p, d, *h]),
    Mistake("swapped", "has the premise and the hypothesis swapped: the premise comes first, "
            "<start> premise <delim> hypothesis <extract>.", lambda p, h, s, d, e: [s, *h, d, *p, e]),
    Mistake("extract first", "puts <extract> at the front; it goes last, after the hypothesis, so that its hidden "
            "state has seen the whole input.", lambda p, h, s, d, e: [e, s, *p, d, *h]),
    Mistake("start and extract swapped", "swaps <start> and <extract>: <start> opens the sequence and <extract> "
            "closes it, since its hidden state must have seen the whole input.",
            lambda p, h, s, d, e: [e, *p, d, *h, s]),
]


def _entailment_inputs():
    return [([11, 12, 13], [21, 22], 0, 1, 2), ([40], [41, 42, 43, 44], 97, 98, 99), ([5, 6], [7, 8], 3, 4, 9)]


def _ids_by_keyword(wrong):
    """wrong(p, h, s, d, e), called the way the library's entailment_input is: the three ids by keyword."""
    return lambda p, h, *, start_id, delim_id, extract_id: wrong(p, h, start_id, delim_id, extract_id)


def check_entailment_input(fn):
    """Check fn(premise_ids, hypothesis_ids, start_id, delim_id, extract_id)
    -> [start_id, *premise_ids, delim_id, *hypothesis_ids, extract_id]."""
    mistakes = [Mistake(m.name, m.explanation, _ids_by_keyword(m.wrong_fn)) for m in ENTAILMENT_MISTAKES]
    return run_check("entailment_input", fn, _entailment_inputs, entailment_input, mistakes=mistakes,
                     keywords=("start_id", "delim_id", "extract_id"))


AUXILIARY_MISTAKES = [
    Mistake("weight on the task loss", "puts λ on the task loss; it weights the auxiliary language-model loss: "
            "L3 = L2 + λ·L1, i.e. task_loss + lm_weight * lm_loss.", lambda task, lm, w: w * task + lm),
    Mistake("minus", "subtracts the language-model loss. Both are losses to minimise, so they add: "
            "task_loss + lm_weight * lm_loss (L3 = L2 + λ·L1).", lambda task, lm, w: task - w * lm),
    Mistake("weight forgotten", "adds the two losses without the weight λ: multiply lm_loss by lm_weight.",
            lambda task, lm, w: task + lm),
    Mistake("weight on both", "multiplies both losses by λ; only the auxiliary loss is weighted.",
            lambda task, lm, w: w * (task + lm)),
    Mistake("lm loss alone", "returns λ·L1 alone and forgets the task loss L2, the objective of fine-tuning: "
            "add task_loss.", lambda task, lm, w: w * lm),
    Mistake("task loss alone", "returns the task loss alone: add the auxiliary loss, lm_weight * lm_loss.",
            lambda task, lm, w: task),
]


def _auxiliary_inputs():
    return [(torch.tensor(0.7), torch.tensor(2.3), 0.5), (torch.tensor(1.25, dtype=torch.float64),
            torch.tensor(3.5, dtype=torch.float64), 0.25), (torch.tensor(0.1), torch.tensor(4.0), 2.0)]


def check_auxiliary_loss(fn):
    """Check fn(task_loss, lm_loss, lm_weight) -> L3 = L2 + λ·L1 as losses: task_loss + lm_weight * lm_loss."""
    return run_check("auxiliary_loss", fn, _auxiliary_inputs, auxiliary_loss, mistakes=AUXILIARY_MISTAKES)
