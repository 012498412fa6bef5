"""Checkers for the InstructGPT SFT exercise (solutions/04_instructgpt_exercises.ipynb): the loss masked to the
response, L_SFT = -1/|R| Σ_{t ∈ R} log P(u_t | u_<t), on right-padded sequences."""
from functools import partial

import torch
import torch.nn.functional as F

from .core import Mistake, random_tensor, run_check


def _sft_loss(logits, tokens, n_prompt, lengths, *, first=None, last=None, shift=1, per_row=False):
    """The masked SFT loss, with a knob for each way of getting it wrong (the defaults are right).

    Row b's response is tokens[b, n_prompt[b] : lengths[b]]; token t is predicted by logits[b, t - 1].
    first / last: where the scored tokens start and end instead ("all" from 1, or "padding" up to T).
    """
    B, T, _ = logits.shape
    logprobs = F.log_softmax(logits, dim=-1)
    per_token, per_row_means = [], []
    for b in range(B):
        start = 1 if first == "all" else int(n_prompt[b])
        end = T if last == "padding" else int(lengths[b])
        terms = [-logprobs[b, t - shift, tokens[b, t]] for t in range(max(start, shift), end)]
        per_token += terms
        per_row_means.append(torch.stack(terms).mean())
    return torch.stack(per_row_means).mean() if per_row else torch.stack(per_token).mean()


def _sft_inputs():
    """Right-padded batches: prompts of 2-6 tokens, responses of 1-5 tokens, padding after (token id 0)."""
    generator = torch.Generator().manual_seed(4)
    for B, T, V in ((3, 12, 11), (4, 16, 7), (2, 10, 5)):
        n_prompt = torch.randint(2, 7, (B,), generator=generator)
        lengths = torch.minimum(n_prompt + torch.randint(1, 6, (B,), generator=generator), torch.tensor(T))
        lengths[0] = T - 1  # one row with a single padding token, one as long as the batch's longest prompt + response
        tokens = torch.randint(1, V, (B, T), generator=generator)
        tokens[torch.arange(T)[None, :] >= lengths[:, None]] = 0  # padding
        yield random_tensor(generator, (B, T, V), torch.float32), tokens, n_prompt, lengths


SFT_MISTAKES = [
    Mistake("prompt in the loss", "also scores the prompt's tokens: SFT learns the response only. Start each row's "
            "terms at t = n_prompt[b], the response's first token.", partial(_sft_loss, first="all")),
    Mistake("padding in the loss", "also scores the padding after each row: stop at t = lengths[b] - 1, the row's last "
            "real token; padding is not text.", partial(_sft_loss, last="padding")),
    Mistake("prompt and padding", "scores every token, the prompt's and the padding's too: only t in "
            "n_prompt[b] ... lengths[b] - 1 count.", partial(_sft_loss, first="all", last="padding")),
    Mistake("no shift", "scores token t with the logits at position t, which can already see it: token t is "
            "predicted by logits[b, t - 1].", partial(_sft_loss, shift=0)),
    Mistake("per row", "averages each row first and then the rows: a short response then weighs as much as a long "
            "one. L_SFT is the mean over all response tokens of the batch together.", partial(_sft_loss, per_row=True)),
]


def check_sft_loss(fn):
    """Check sft_loss(logits, tokens, n_prompt, lengths) against minigpt's reference on right-padded batches."""
    return run_check("sft_loss", fn, _sft_inputs, _sft_loss, mistakes=SFT_MISTAKES)
