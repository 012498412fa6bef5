"""Checkers for the InstructGPT PPO exercise (solutions/06_instructgpt_exercises.ipynb): the KL-penalised reward,
generalised advantage estimation and PPO's clipped objective, each on right-padded (B, T) tensors over the
response tokens with a mask of the valid ones; and best-of-n, PPO's rival that trains nothing. The references are
minigpt.ppo.kl_penalised_rewards, gae and clipped_policy_loss, and minigpt.best_of_n; each wrong variant below is
one of the mistakes the exercise is known for.
"""
import math
from functools import partial

import torch

from ..best_of_n import best_of_n, best_of_n_kl
from ..ppo import clipped_policy_loss, gae, kl_penalised_rewards
from .core import Mistake, require_function, run_check


def _padded_mask(lengths, T, dtype):
    return (torch.arange(T)[None, :] < torch.tensor(lengths)[:, None]).to(dtype)


RESPONSE_LENGTHS = (([4, 2, 5], 5), ([1, 3], 3), ([6, 6, 2, 4], 6))  # (each response's length, T): padded rows


def _cases(seed, settings, make):
    """One input tuple per RESPONSE_LENGTHS entry: make(generator, mask (B, T) of those lengths, the setting for it)."""
    g = torch.Generator().manual_seed(seed)
    return [make(g, _padded_mask(lengths, T, torch.float32), setting)
            for (lengths, T), setting in zip(RESPONSE_LENGTHS, settings)]


def _last_index(mask):
    return mask.sum(dim=1).long() - 1


# ---- Exercise 1: the KL-penalised reward ----------------------------------------------------------------


def _rewards_variant(scores, logprobs, ref_logprobs, mask, *, beta, kl_sign=-1, score_at="last valid",
                     mask_kl=True):
    kl = logprobs - ref_logprobs
    rewards = kl_sign * beta * (kl * mask if mask_kl else kl)
    rows = torch.arange(len(scores))
    if score_at == "last valid":
        rewards[rows, _last_index(mask)] += scores
    elif score_at == "every token":
        rewards = rewards + scores[:, None] * mask
    elif score_at == "last column":
        rewards[:, -1] += scores
    return rewards


REWARD_MISTAKES = [
    Mistake("KL sign", "adds β (log π_RL − log π_SFT) instead of subtracting it: the sign of the KL term is flipped, so "
            "the policy would be paid for moving away from the SFT model. Each token's reward is −β (log π_RL − log "
            "π_SFT).", partial(_rewards_variant, kl_sign=1)),
    Mistake("score at every token", "adds the reward model's score at every response token: r_θ(x, y) judges the "
            "whole response, so it is given once, at its last valid token (rewards[b, n_b − 1] with n_b = "
            "mask[b].sum()).", partial(_rewards_variant, score_at="every token")),
    Mistake("score at the padded end", "adds the score at the last column, rewards[:, -1], which is padding for every "
            "response shorter than the longest: put it at each response's own last valid token, mask[b].sum() − 1.",
            partial(_rewards_variant, score_at="last column")),
    Mistake("KL on padding", "puts a KL penalty on the padding after a response: multiply the KL term by the mask, so "
            "that positions past the end get reward 0.", partial(_rewards_variant, mask_kl=False)),
]


def _reward_inputs():
    def make(g, mask, beta):
        B, T = mask.shape
        logprobs, ref_logprobs = -torch.rand(B, T, generator=g) * 3, -torch.rand(B, T, generator=g) * 3
        return torch.randn(B, generator=g), logprobs, ref_logprobs, mask, beta
    return _cases(6, (0.1, 0.5, 0.02), make)


def check_kl_penalised_rewards(fn):
    """Check fn(scores, logprobs, ref_logprobs, mask, beta) -> rewards (B, T): −β (log π_RL − log π_SFT) at each
    valid response token, plus the score at each response's last valid token; 0 on padding."""
    return run_check("kl_penalised_rewards", fn, _reward_inputs, kl_penalised_rewards, mistakes=REWARD_MISTAKES,
                     keywords=("beta",))


# ---- Exercise 2: generalised advantage estimation -------------------------------------------------------


def _gae_variant(rewards, values, mask, *, gamma, lam, next_value_at="next", discounts=None, add_values=True):
    """GAE written per token with a knob for each known mistake (the defaults are right)."""
    gamma_delta, gamma_lam = (lam, gamma * lam) if discounts == "swapped" else (gamma, gamma * lam)
    B, T = rewards.shape
    advantages = torch.zeros_like(rewards)
    running = torch.zeros(B, dtype=rewards.dtype)
    for t in reversed(range(T)):
        if next_value_at == "next":
            following = values[:, t + 1] * mask[:, t + 1] if t + 1 < T else torch.zeros(B, dtype=rewards.dtype)
        elif next_value_at == "unmasked next":  # the last valid token bootstraps from the padding after it
            following = values[:, t + 1] if t + 1 < T else torch.zeros(B, dtype=rewards.dtype)
        else:  # "own": δ_t = r_t + γ V_t − V_t
            following = values[:, t]
        delta = rewards[:, t] + gamma_delta * following - values[:, t]
        running = (delta + gamma_lam * running) * mask[:, t]
        advantages[:, t] = running
    returns = (advantages + values) * mask if add_values else advantages
    return advantages, returns


GAE_MISTAKES = [
    Mistake("off by one at the last token", "bootstraps the last valid token from the value of the padding after it: "
            "the episode ends at the last valid token, so there V_{t+1} = 0 (multiply the next value by the next "
            "position's mask, or stop at each response's own length).",
            partial(_gae_variant, next_value_at="unmasked next")),
    Mistake("bootstrapping from V_t", "bootstraps from the wrong value: δ_t = r_t + γ V_{t+1} − V_t uses the value "
            "of the *next* token, V_{t+1}, not V_t.", partial(_gae_variant, next_value_at="own")),
    Mistake("λ and γ swapped", "swaps λ and γ: the TD residual discounts the next value by γ, δ_t = r_t + γ V_{t+1} − "
            "V_t, and the advantages add up the residuals with γλ, A_t = δ_t + γλ A_{t+1}.",
            partial(_gae_variant, discounts="swapped")),
    Mistake("returns without values", "returns the advantages as the returns: the value model's targets are R_t = A_t "
            "+ V_t.", partial(_gae_variant, add_values=False)),
]


def _gae_inputs():
    def make(g, mask, discounts):
        B, T = mask.shape
        return (torch.randn(B, T, generator=g), torch.randn(B, T, generator=g), mask, *discounts)
    return _cases(7, ((1.0, 0.95), (0.9, 0.5), (0.99, 0.8)), make)  # γ ≠ λ, so that swapping them shows


def check_gae(fn):
    """Check fn(rewards, values, mask, gamma, lam) -> (advantages, returns), each (B, T) and 0 on padding."""
    return run_check("gae", fn, _gae_inputs, gae, mistakes=GAE_MISTAKES, keywords=("gamma", "lam"))


# ---- Exercise 3: PPO's clipped objective ----------------------------------------------------------------


def _clip_variant(logprobs, old_logprobs, advantages, mask, *, clip, ratio_of="exp", pick=torch.min,
                  clip_what="ratio", sign=-1):
    log_ratio = logprobs - old_logprobs
    ratio = torch.exp(log_ratio) if ratio_of == "exp" else log_ratio
    if clip_what == "ratio":
        clipped = torch.clamp(ratio, 1 - clip, 1 + clip) * advantages
    else:  # the advantage
        clipped = ratio * torch.clamp(advantages, 1 - clip, 1 + clip)
    objective = pick(ratio * advantages, clipped)
    return sign * (objective * mask).sum() / mask.sum()


CLIP_MISTAKES = [
    Mistake("log-ratio", "uses the log-ratio log π − log π_old where the ratio belongs: r_t = π/π_old = exp(log π − "
            "log π_old).", partial(_clip_variant, ratio_of="log")),
    Mistake("max instead of min", "takes the max of the two terms instead of the min: the min makes L^CLIP a "
            "pessimistic bound, so a step gains nothing by pushing the ratio past 1 ± ε.",
            partial(_clip_variant, pick=torch.max)),
    Mistake("clipped advantage", "clips the advantage instead of the ratio: it is r_t that is kept within [1 − ε, 1 + ε], "
            "clip(r_t, 1 − ε, 1 + ε) A_t.", partial(_clip_variant, clip_what="advantage")),
    Mistake("sign", "returns L^CLIP itself: the loss that gradient descent minimises is its negative, −L^CLIP.",
            partial(_clip_variant, sign=1)),
]


def _clip_inputs():
    def make(g, mask, clip):
        B, T = mask.shape
        old = -torch.rand(B, T, generator=g) * 3
        logprobs = old + (torch.rand(B, T, generator=g) - 0.5)  # ratios from 0.6 to 1.65: the clip bites both ways
        return logprobs, old, torch.randn(B, T, generator=g) * 2, mask, clip
    return _cases(8, (0.2, 0.1, 0.2), make)


def _policy_loss(logprobs, old_logprobs, advantages, mask, *, clip):
    return clipped_policy_loss(logprobs, old_logprobs, advantages, mask, clip=clip)[0]


def check_clipped_policy_loss(fn):
    """Check fn(logprobs, old_logprobs, advantages, mask, clip) -> −L^CLIP, the negated mean over the valid tokens of
    min( r_t A_t, clip(r_t, 1 − ε, 1 + ε) A_t ) with r_t = exp(logprobs − old_logprobs)."""
    return run_check("clipped_policy_loss", fn, _clip_inputs, _policy_loss, mistakes=CLIP_MISTAKES, keywords=("clip",))


# ---- Exercise 4: best-of-n and its KL ------------------------------------------------------------------------


def _bon_variant(proxy, gold, *, pick="proxy", reduce="pick", kl="bon"):
    n = proxy.size(0)
    if reduce == "random":
        found = gold.mean()
    elif reduce == "proxy score":
        found = proxy.max(0).values.mean()
    elif pick == "prompts":
        found = gold.gather(1, proxy.argmax(1, keepdim=True)).mean()  # the best prompt of each sample
    else:
        chosen = {"proxy": proxy.argmax(0), "lowest": proxy.argmin(0), "gold": gold.argmax(0)}[pick]
        found = gold.gather(0, chosen[None]).mean()
    kl_value = {"bon": math.log(n) - (n - 1) / n, "log n": math.log(n), "plus": math.log(n) + (n - 1) / n,
                "log2": math.log2(n) - (n - 1) / n}[kl]
    return found.double(), torch.tensor(kl_value, dtype=torch.float64)


def _bon_reference(proxy, gold):
    """best_of_n of all N samples (the proxy's pick of each prompt's N samples, mean gold) and best_of_n_kl(N)."""
    n = proxy.size(0)
    return (torch.tensor(best_of_n(proxy, gold, n)["gold"], dtype=torch.float64),
            torch.tensor(best_of_n_kl(n), dtype=torch.float64))


def _bon_inputs():
    g = torch.Generator().manual_seed(6)
    return [(torch.randn(n, p, generator=g), torch.rand(n, p, generator=g)) for n, p in ((4, 5), (8, 3), (16, 7))]


BON_MISTAKES = [
    Mistake("lowest", "picks the response the reward model scores lowest (argmin): best-of-n keeps the highest score "
            "of each prompt's n samples, proxy.argmax(dim=0).", partial(_bon_variant, pick="lowest")),
    Mistake("oracle", "picks by the gold score: best-of-n only has the reward model's score to pick with; the gold "
            "labeler judges the pick afterwards (gold of proxy.argmax(dim=0)).", partial(_bon_variant, pick="gold")),
    Mistake("over prompts", "takes the argmax over the prompts (dim=1): the n samples of one prompt are a column, so "
            "the pick is proxy.argmax(dim=0), one per prompt.", partial(_bon_variant, pick="prompts")),
    Mistake("random", "returns the mean gold of all samples, a random pick's: take each prompt's sample with the "
            "highest proxy score, then average its gold score over the prompts.",
            partial(_bon_variant, reduce="random")),
    Mistake("proxy score", "returns the reward model's score of its pick: the figure is the gold score of that pick "
            "(the proxy's own score always rises with n).", partial(_bon_variant, reduce="proxy score")),
    Mistake("log n", "gives KL = log n: best-of-n's KL is log n − (n − 1)/n, below log n because the pick is not "
            "always the same one of the n.", partial(_bon_variant, kl="log n")),
    Mistake("plus", "adds (n − 1)/n to log n: it is subtracted, KL = log n − (n − 1)/n (0 at n = 1).",
            partial(_bon_variant, kl="plus")),
    Mistake("log2", "uses log base 2: the KL is in nats, math.log(n) − (n − 1)/n.",
            partial(_bon_variant, kl="log2")),
]


def _as_float64(fn):
    """The student's (gold, kl) as float64 tensors, whether they came as numbers or tensors; anything else as is."""
    def wrapped(proxy, gold):
        got = fn(proxy, gold)
        if isinstance(got, (tuple, list)) and len(got) == 2 and all(isinstance(x, (int, float, torch.Tensor))
                                                                    for x in got):
            return tuple(torch.as_tensor(x, dtype=torch.float64) for x in got)
        return got
    return wrapped


def check_best_of_n(fn):
    """Check fn(proxy, gold) -> (gold score of best-of-n, KL_bon): proxy and gold are (n, P) scores of n samples of
    each of P prompts; the pick of each prompt is its sample with the highest proxy score, the first figure the mean
    gold score of the picks, the second log n − (n − 1)/n."""
    require_function(fn, "best_of_n")
    return run_check("best_of_n", _as_float64(fn), _bon_inputs, _bon_reference, mistakes=BON_MISTAKES)
