"""InstructGPT's step 2: a reward model trained on rankings of K responses to one prompt.

Ouyang et al. (2022), "Training language models to follow instructions with human feedback", section 3.5.
A labeler ranks K responses to a prompt x (K from 4 to 9) from best to worst. Every pair of them is a
comparison: the better response y_w should score higher than the worse y_l. The reward model r_θ is the
SFT model with its unembedding removed and a scalar head added, and its loss is (eq. 1)

    loss(θ) = -1 / C(K, 2) · E_(x, y_w, y_l)~D [ log σ( r_θ(x, y_w) - r_θ(x, y_l) ) ]

All C(K, 2) comparisons of one prompt are one batch element: the K responses go through the model once,
and the pairs are formed from their K scores. (Shuffled in as separate data points, the comparisons made
InstructGPT's reward model overfit within one epoch.)
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def ranking_pairs(ranking):
    """All C(K, 2) comparisons of a ranking, winner first: ranking lists response indices from best to worst.

    ranking_pairs([2, 0, 1]) == [(2, 0), (2, 1), (0, 1)]
    """
    ranking = list(ranking)
    if len(ranking) < 2:
        raise ValueError(f"a ranking of {len(ranking)} response(s) has no pairs to compare; rank at least 2 (K >= 2)")
    if sorted(ranking) != list(range(len(ranking))):
        raise ValueError(f"the ranking {ranking} is not a permutation of 0..{len(ranking) - 1}: "
                         "each response must appear exactly once")
    return [(ranking[i], ranking[j]) for i in range(len(ranking)) for j in range(i + 1, len(ranking))]


def ranking_loss(scores, lengths=None):
    """InstructGPT's K-wise loss: the mean over prompts of -1/C(K,2) Σ_{i<j} log σ(s_i - s_j).

    scores: (B, K), each row the reward model's scores of one prompt's responses in the labeler's order, best
    first. lengths: optional (B,) tensor, the K of each prompt when rows are padded on the right (positions
    past a row's length are ignored). log σ is computed with F.logsigmoid, which stays finite for any margin.
    """
    if scores.dim() != 2:
        raise ValueError(f"scores must be (B, K), one row of K scores per prompt; got shape {tuple(scores.shape)}")
    B, K = scores.shape
    if lengths is None:
        lengths = torch.full((B,), K, device=scores.device)
    lengths = torch.as_tensor(lengths, device=scores.device)
    if lengths.shape != (B,) or (lengths < 2).any() or (lengths > K).any():
        raise ValueError(f"lengths must give each of the {B} prompts its K, between 2 and {K}; got {lengths.tolist()}")
    i, j = torch.triu_indices(K, K, offset=1, device=scores.device)  # every pair i < j: i ranked above j
    margins = scores[:, i] - scores[:, j]  # (B, C(K, 2)): s_i - s_j
    valid = (j[None, :] < lengths[:, None]).to(scores.dtype)  # both responses exist (i < j < K_b)
    n_pairs = lengths * (lengths - 1) / 2  # C(K_b, 2)
    per_prompt = -(F.logsigmoid(margins) * valid).sum(dim=1) / n_pairs  # (B,)
    return per_prompt.mean()


class RewardModel(nn.Module):
    """r_θ(x, y): a GPT backbone without its unembedding, and a scalar head read at the response's last token.

    forward(idx, lengths) takes right-padded (B, T) token ids of prompt + response and each row's length, and
    returns (B,) rewards. Attention is causal, so padding after a sequence does not change its last hidden
    state: a response scores the same whatever the padding or the other rows of the batch. `offset` is
    subtracted from every score; normalize_() sets it so that given sequences (the demonstrations) average 0.
    """

    def __init__(self, gpt):
        super().__init__()
        self.gpt = gpt
        self.head = nn.Linear(gpt.config.n_embd, 1)
        nn.init.normal_(self.head.weight, std=1 / math.sqrt(gpt.config.n_embd + 1))
        nn.init.zeros_(self.head.bias)
        self.register_buffer("offset", torch.zeros(()))

    def forward(self, idx, lengths):
        lengths = torch.as_tensor(lengths, device=idx.device)
        if lengths.shape != idx.shape[:1] or (lengths < 1).any() or (lengths > idx.size(1)).any():
            raise ValueError(f"lengths must give each of the {idx.size(0)} rows its length, 1 to {idx.size(1)}")
        h = self.gpt.hidden_states(idx)  # (B, T, C)
        last = h[torch.arange(idx.size(0), device=idx.device), lengths - 1]  # (B, C): each row's last real token
        return self.head(last).squeeze(-1) - self.offset  # (B,)

    @torch.no_grad()
    def normalize_(self, idx, lengths):
        """Shift the scores so that these sequences (InstructGPT: the labelers' demonstrations) average 0."""
        self.offset += self(idx, lengths).mean()
        return self
