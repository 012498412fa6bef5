"""The PPO exercise checkers accept right answers written in other ways and name each planted mistake.

The student functions here are written out independently (plain loops over rows and tokens), not taken from the
checker's own variants."""
import math

import pytest
import torch

from minigpt.checks import check_best_of_n, check_clipped_policy_loss, check_gae, check_kl_penalised_rewards
from minigpt.ppo import clipped_policy_loss, gae, kl_penalised_rewards


def diagnosis(check, fn):
    with pytest.raises(AssertionError) as info:
        check(fn)
    return str(info.value)


# ---- the KL-penalised reward ----


def rewards_loop(scores, logprobs, ref_logprobs, mask, beta, kl_sign=-1, score_everywhere=False, score_last_column=False):
    rewards = torch.zeros_like(logprobs)
    for b in range(logprobs.size(0)):
        n = int(mask[b].sum())
        for t in range(n):
            rewards[b, t] = kl_sign * beta * (logprobs[b, t] - ref_logprobs[b, t])
            if score_everywhere:
                rewards[b, t] += scores[b]
        if score_last_column:
            rewards[b, -1] += scores[b]
        elif not score_everywhere:
            rewards[b, n - 1] += scores[b]
    return rewards


@pytest.mark.parametrize("answer", [lambda *a: kl_penalised_rewards(*a[:4], beta=a[4]), rewards_loop],
                         ids=["library", "loop"])
def test_a_correct_kl_penalised_reward_passes(answer, capsys):
    assert check_kl_penalised_rewards(answer) is True
    assert "kl_penalised_rewards: correct" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, named", [
    (lambda *a: rewards_loop(*a, kl_sign=1), "sign of the KL term is flipped"),
    (lambda *a: rewards_loop(*a, score_everywhere=True), "at every response token"),
    (lambda *a: rewards_loop(*a, score_last_column=True), "which is padding"),
    (lambda s, lp, ref, m, beta: -beta * (lp - ref) + torch.nn.functional.one_hot(m.sum(1).long() - 1, m.size(1)) * s[:, None],
     "KL penalty on the padding"),
], ids=["kl-sign", "score-everywhere", "last-column", "kl-on-padding"])
def test_each_reward_mistake_is_named(wrong, named):
    assert named in diagnosis(check_kl_penalised_rewards, wrong)


# ---- GAE ----


def gae_loop(rewards, values, mask, gamma, lam, own_value=False, past_the_end=False, swapped=False, plain_returns=False):
    advantages, returns = torch.zeros_like(rewards), torch.zeros_like(rewards)
    delta_discount = lam if swapped else gamma
    for b in range(rewards.size(0)):
        n, running = int(mask[b].sum()), 0.0
        for t in reversed(range(n)):
            if own_value:
                following = values[b, t]
            elif t + 1 < n or (past_the_end and t + 1 < rewards.size(1)):
                following = values[b, t + 1]
            else:
                following = 0.0
            running = rewards[b, t] + delta_discount * following - values[b, t] + gamma * lam * running
            advantages[b, t] = running
            returns[b, t] = running if plain_returns else running + values[b, t]
    return advantages, returns


@pytest.mark.parametrize("answer", [lambda *a: gae(*a[:3], gamma=a[3], lam=a[4]), gae_loop], ids=["library", "loop"])
def test_a_correct_gae_passes(answer, capsys):
    assert check_gae(answer) is True
    assert "gae: correct" in capsys.readouterr().out


@pytest.mark.parametrize("option, named", [
    ("past_the_end", "bootstraps the last valid token from the value of the padding"),
    ("own_value", "bootstraps from the wrong value"),
    ("swapped", "swaps λ and γ"),
    ("plain_returns", "returns the advantages as the returns"),
])
def test_each_gae_mistake_is_named(option, named):
    assert named in diagnosis(check_gae, lambda *args: gae_loop(*args, **{option: True}))


# ---- the clipped objective ----


def clipped_loop(logprobs, old_logprobs, advantages, mask, clip, use_log=False, use_max=False, clip_advantage=False,
                 objective=False):
    total, count = 0.0, 0
    for b in range(logprobs.size(0)):
        for t in range(int(mask[b].sum())):
            log_ratio = logprobs[b, t] - old_logprobs[b, t]
            ratio = log_ratio if use_log else torch.exp(log_ratio)
            A = advantages[b, t]
            second = ratio * A.clamp(1 - clip, 1 + clip) if clip_advantage else ratio.clamp(1 - clip, 1 + clip) * A
            total = total + (max if use_max else min)(ratio * A, second)
            count += 1
    return total / count if objective else -total / count


@pytest.mark.parametrize("answer", [lambda *a: clipped_policy_loss(*a[:4], clip=a[4])[0], clipped_loop],
                         ids=["library", "loop"])
def test_a_correct_clipped_objective_passes(answer, capsys):
    assert check_clipped_policy_loss(answer) is True
    assert "clipped_policy_loss: correct" in capsys.readouterr().out


@pytest.mark.parametrize("option, named", [
    ("use_log", "uses the log-ratio"),
    ("use_max", "takes the max of the two terms"),
    ("clip_advantage", "clips the advantage instead of the ratio"),
    ("objective", "returns L^CLIP itself"),
])
def test_each_clipped_objective_mistake_is_named(option, named):
    assert named in diagnosis(check_clipped_policy_loss, lambda *args: clipped_loop(*args, **{option: True}))


# ---- best-of-n ----


def best_of_n_loop(proxy, gold, pick_lowest=False, kl_log_n_only=False):
    """Best-of-n written out: for each prompt (a column), the sample with the highest proxy score (the first of equal
    ones), its gold score averaged over the prompts; and KL_bon."""
    n, prompts = proxy.shape
    total = 0.0
    for p in range(prompts):
        best = 0
        for i in range(1, n):
            if (proxy[i, p] < proxy[best, p]) if pick_lowest else (proxy[i, p] > proxy[best, p]):
                best = i
        total += gold[best, p].item()
    kl = math.log(n) if kl_log_n_only else math.log(n) - (n - 1) / n
    return total / prompts, kl


def test_a_correct_best_of_n_passes_as_numbers_or_tensors(capsys):
    assert check_best_of_n(best_of_n_loop) is True
    assert check_best_of_n(lambda proxy, gold: (gold.gather(0, proxy.argmax(0)[None]).mean(),
                                                torch.tensor(math.log(len(proxy)) - 1 + 1 / len(proxy)))) is True
    assert "best_of_n: correct" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, named", [
    (lambda proxy, gold: best_of_n_loop(proxy, gold, pick_lowest=True), "scores lowest (argmin)"),
    (lambda proxy, gold: best_of_n_loop(gold, gold), "picks by the gold score"),
    (lambda proxy, gold: (gold.mean().item(), math.log(len(proxy)) - (len(proxy) - 1) / len(proxy)), "a random pick"),
    (lambda proxy, gold: best_of_n_loop(proxy, gold, kl_log_n_only=True), "gives KL = log n"),
    (lambda proxy, gold: (best_of_n_loop(proxy, gold)[0], math.log2(len(proxy)) - (len(proxy) - 1) / len(proxy)),
     "log base 2"),
], ids=["argmin", "oracle", "random", "log-n", "log2"])
def test_each_best_of_n_mistake_is_named(wrong, named):
    assert named in diagnosis(check_best_of_n, wrong)


def test_an_unfinished_best_of_n_is_not_implemented_yet(capsys):
    def stub(proxy, gold):
        raise NotImplementedError()

    assert check_best_of_n(stub) is False and "not implemented yet" in capsys.readouterr().out
