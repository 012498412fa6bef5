"""Best-of-n: sample n responses, keep the one the reward model scores highest.

Best-of-n trains nothing. It spends samples where PPO spends gradient steps, and Gao, Schulman and Hilton (2022)
measured it beside PPO as a policy optimised against a proxy reward model: the gold score of the pick against the
KL from the sampled policy, which for best-of-n has a closed form (Stiennon et al. 2020):

    KL_bon = log n − (n − 1) / n

From N samples of each prompt, scored by the reward model (proxy) and by the gold labeler (gold):

    best_of_n(proxy, gold, n)      # the expected proxy and gold score of best-of-n, for any n <= N, and its KL
    oracle_fraction(proxy, gold)   # the share of the best sample's gain over a random one that the proxy's pick keeps
    untied_agreement(proxy, gold)  # how often the proxy orders two samples of a prompt as the gold labeler does

Scores are (N, P) tensors: N samples (rows) of each of P prompts (columns).
"""
import math

import torch


def best_of_n_kl(n):
    """The KL from the base policy of best-of-n sampling (Stiennon et al. 2020): log n − (n − 1)/n."""
    _check_n(n)
    return math.log(n) - (n - 1) / n


def _check_n(n, available=None):
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"best-of-n needs a whole number n >= 1 of samples to pick from, not {n!r}")
    if available is not None and n > available:
        raise ValueError(f"best-of-{n} needs at least {n} samples of each prompt; there are {available}")


def _check_scores(proxy, gold):
    proxy, gold = torch.as_tensor(proxy, dtype=torch.float64), torch.as_tensor(gold, dtype=torch.float64)
    if proxy.dim() != 2 or proxy.shape != gold.shape:
        raise ValueError(f"proxy and gold must be (N samples, P prompts) scores of the same samples; got "
                         f"{tuple(proxy.shape)} and {tuple(gold.shape)}")
    return proxy, gold


def pick_order(proxy):
    """(N, P) sample indices of each prompt from the proxy's least to its most preferred; of two equal scores the
    earlier sample is preferred, as argmax prefers it."""
    N = proxy.size(0)
    position = torch.arange(N, dtype=proxy.dtype).unsqueeze(1).expand_as(proxy)
    # sort by score, then by -position: the later of two equal scores comes first (is less preferred)
    by_position = torch.argsort(-position, dim=0, stable=True)
    by_score = torch.argsort(proxy.gather(0, by_position), dim=0, stable=True)
    return by_position.gather(0, by_score)


def best_of_n(proxy, gold, n):
    """Best-of-n's expected proxy and gold score over prompts, estimated without bias from N >= n samples of each
    prompt, and its KL (best_of_n_kl). The estimate averages over every n-subset of a prompt's N samples, whose pick
    is the subset's most preferred sample: with the samples in pick_order, the i-th (i = 1..N) is the pick of
    C(i − 1, n − 1) of the C(N, n) subsets. n = 1 gives the mean score of a random sample; n = N, the proxy's pick
    of all N."""
    proxy, gold = _check_scores(proxy, gold)
    N = proxy.size(0)
    _check_n(n, N)
    weights = torch.tensor([math.comb(i, n - 1) for i in range(N)], dtype=torch.float64) / math.comb(N, n)  # (N,)
    order = pick_order(proxy)
    return {"n": n, "kl": best_of_n_kl(n),
            "proxy": (proxy.gather(0, order) * weights[:, None]).sum(0).mean().item(),
            "gold": (gold.gather(0, order) * weights[:, None]).sum(0).mean().item()}


def oracle_fraction(proxy, gold):
    """How much of the oracle's gain the proxy's pick keeps, from the same N samples of each prompt:
    (gold of the proxy's pick − mean gold) / (gold of the gold-best sample − mean gold), each averaged over prompts.
    0 is no better than a random sample, 1 is as good as the gold labeler's own pick, below 0 is worse than random.
    Prompts whose N samples all score the same gold add nothing to either side."""
    proxy, gold = _check_scores(proxy, gold)
    picked = gold.gather(0, proxy.argmax(0, keepdim=True)).mean()
    random, oracle = gold.mean(), gold.max(0).values.mean()
    if oracle - random <= 0:
        raise ValueError("every sample of every prompt has the same gold score: there is no gain to recover")
    return ((picked - random) / (oracle - random)).item()


def untied_agreement(proxy, gold):
    """The share of the pairs of a prompt's samples that the gold labeler scores apart on which the proxy agrees with
    it (scores the gold-better sample strictly higher), over every prompt: a reward model's pairwise accuracy on the
    very samples best-of-n and PPO choose among. Pairs that gold ties are left out."""
    proxy, gold = _check_scores(proxy, gold)
    gold_above = gold[:, None, :] > gold[None, :, :]  # (N, N, P): sample a's gold above sample b's, per prompt
    agree = gold_above & (proxy[:, None, :] > proxy[None, :, :])
    if not gold_above.any():
        raise ValueError("the gold labeler ties every pair of samples: there is no pair to agree on")
    return (agree.sum() / gold_above.sum()).item()
