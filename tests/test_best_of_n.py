"""minigpt.best_of_n against plain loops: every n-subset enumerated, and the picks made one prompt at a time."""
import itertools
import math

import pytest
import torch

from minigpt.best_of_n import best_of_n, best_of_n_kl, oracle_fraction, untied_agreement


def by_every_subset(proxy, gold, n):
    """Best-of-n by brute force: for each prompt, every n-subset of its samples, the pick the first of the highest
    proxy scores (as argmax picks), averaged."""
    N, P = proxy.shape
    sums = {"proxy": 0.0, "gold": 0.0}
    for p in range(P):
        subsets = list(itertools.combinations(range(N), n))
        for subset in subsets:
            pick = max(subset, key=lambda i: (proxy[i, p].item(), -i))
            sums["proxy"] += proxy[pick, p].item() / len(subsets)
            sums["gold"] += gold[pick, p].item() / len(subsets)
    return {key: value / P for key, value in sums.items()}


@pytest.mark.parametrize("seed", [0, 1])
def test_best_of_n_is_the_mean_over_every_subset(seed):
    g = torch.Generator().manual_seed(seed)
    proxy = torch.randint(0, 4, (7, 5), generator=g).float()  # few values: many ties, broken as argmax breaks them
    gold = torch.rand(7, 5, generator=g)
    for n in range(1, 8):
        found, expected = best_of_n(proxy, gold, n), by_every_subset(proxy, gold, n)
        assert found["proxy"] == pytest.approx(expected["proxy"]) and found["gold"] == pytest.approx(expected["gold"])
        assert found["kl"] == pytest.approx(math.log(n) - (n - 1) / n)
    assert best_of_n(proxy, gold, 1)["gold"] == pytest.approx(gold.mean().item())  # n = 1: a random sample
    pick = proxy.argmax(0)
    assert best_of_n(proxy, gold, 7)["gold"] == pytest.approx(gold[pick, torch.arange(5)].mean().item())


def test_the_oracle_fraction_is_zero_for_a_random_proxy_and_one_for_the_gold_itself():
    gold = torch.tensor([[0.0, 1.0], [1.0, 0.5], [0.5, 0.0]])
    assert oracle_fraction(gold, gold) == pytest.approx(1.0)
    assert oracle_fraction(-gold, gold) < 0  # the worst sample: below a random pick
    picked, random, best = (0.5 + 0.5) / 2, gold.mean().item(), (1.0 + 1.0) / 2
    proxy = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0]])  # picks 0.5 (prompt 0) and 0.5 (prompt 1)
    assert oracle_fraction(proxy, gold) == pytest.approx((picked - random) / (best - random))


def test_bad_input_gets_a_clear_error():
    scores = torch.zeros(4, 3)
    with pytest.raises(ValueError, match="n >= 1"):
        best_of_n(scores, scores, 0)
    with pytest.raises(ValueError, match="n >= 1"):
        best_of_n_kl(0)
    with pytest.raises(ValueError, match="best-of-8 needs at least 8 samples of each prompt; there are 4"):
        best_of_n(scores, scores, 8)
    with pytest.raises(ValueError, match="the same samples"):
        best_of_n(scores, torch.zeros(3, 4), 2)
    with pytest.raises(ValueError, match="no gain to recover"):
        oracle_fraction(torch.rand(4, 3), scores)


def test_untied_agreement_counts_the_pairs_gold_scores_apart_one_by_one():
    g = torch.Generator().manual_seed(3)
    proxy, gold = torch.randint(0, 3, (6, 4), generator=g).float(), torch.randint(0, 3, (6, 4), generator=g).float()
    agree = total = 0
    for p in range(4):
        for a in range(6):
            for b in range(6):
                if gold[a, p] > gold[b, p]:
                    total += 1
                    agree += int(proxy[a, p] > proxy[b, p])
    assert untied_agreement(proxy, gold) == pytest.approx(agree / total)
    assert untied_agreement(gold, gold) == 1.0 and untied_agreement(-gold, gold) == 0.0
    with pytest.raises(ValueError, match="ties every pair"):
        untied_agreement(proxy, torch.ones(6, 4))
