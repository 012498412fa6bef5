"""minigpt.reward: InstructGPT's K-wise ranking loss against its pairwise form, and the reward model's reading."""
import math

import pytest
import torch

from minigpt import GPT, GPTConfig
from minigpt.reward import RewardModel, ranking_loss, ranking_pairs


def pairwise_loss_loop(scores, lengths):
    """The loss written out: for each prompt, -log sigmoid(s_w - s_l) over each expanded (winner, loser) pair,
    averaged over its pairs, then over prompts; plain Python floats."""
    total = 0.0
    for row, k in zip(scores.tolist(), lengths):
        pairs = [(row[a], row[b]) for a in range(k) for b in range(k) if a < b]  # a is ranked above b
        total += sum(-math.log(1 / (1 + math.exp(-(w - l)))) for w, l in pairs) / len(pairs)
    return total / len(lengths)


def test_ranking_loss_is_the_mean_of_the_pairwise_losses_over_every_pair():
    torch.manual_seed(0)
    scores = torch.randn(5, 7)
    lengths = [7, 4, 2, 5, 7]
    expected = pairwise_loss_loop(scores, lengths)
    assert ranking_loss(scores, torch.tensor(lengths)).item() == pytest.approx(expected, rel=1e-6)
    assert ranking_loss(scores).item() == pytest.approx(pairwise_loss_loop(scores, [7] * 5), rel=1e-6)


def test_the_padding_past_a_rows_length_does_not_matter():
    scores = torch.randn(3, 6)
    lengths = torch.tensor([6, 3, 4])
    padded = scores.clone()
    padded[1, 3:], padded[2, 4:] = 1e4, -1e4
    assert torch.equal(ranking_loss(scores, lengths), ranking_loss(padded, lengths))


def test_adding_a_constant_to_one_prompts_scores_changes_nothing():
    scores = torch.randn(4, 5)
    shifted = scores.clone()
    shifted[2] += 37.5
    assert torch.allclose(ranking_loss(scores), ranking_loss(shifted), atol=1e-6)


def test_equal_scores_give_ln_2():
    assert ranking_loss(torch.zeros(3, 9)).item() == pytest.approx(math.log(2))


def test_a_margin_of_minus_100_gives_a_finite_loss_and_gradient():
    scores = torch.tensor([[-100.0, 0.0]], requires_grad=True)  # the winner scored 100 below the loser
    loss = ranking_loss(scores)
    loss.backward()
    assert loss.item() == pytest.approx(100.0, rel=1e-4)
    assert torch.isfinite(scores.grad).all() and scores.grad[0, 0] == pytest.approx(-1.0)


def test_the_loss_falls_when_the_winner_scores_higher():
    assert ranking_loss(torch.tensor([[2.0, 0.0]])) < ranking_loss(torch.tensor([[0.0, 2.0]]))


@pytest.mark.parametrize("bad, message", [
    (dict(scores=torch.zeros(2, 1)), "between 2 and 1"),
    (dict(scores=torch.zeros(2, 4), lengths=torch.tensor([4, 1])), "between 2 and 4"),
    (dict(scores=torch.zeros(2, 4), lengths=torch.tensor([4, 5])), "between 2 and 4"),
    (dict(scores=torch.zeros(4)), "one row of K scores per prompt"),
])
def test_bad_scores_or_lengths_are_refused_with_a_clear_error(bad, message):
    with pytest.raises(ValueError, match=message):
        ranking_loss(**bad)


def test_a_ranking_becomes_all_its_pairs_winner_first():
    assert ranking_pairs([2, 0, 1]) == [(2, 0), (2, 1), (0, 1)]
    assert len(ranking_pairs(range(9))) == math.comb(9, 2)
    with pytest.raises(ValueError, match="not a permutation"):
        ranking_pairs([0, 0, 1])
    with pytest.raises(ValueError, match="K >= 2"):
        ranking_pairs([0])


def tiny_reward_model(seed=0):
    torch.manual_seed(seed)
    return RewardModel(GPT(GPTConfig(vocab_size=30, block_size=16, n_layer=2, n_head=2, n_embd=16))).eval()


def test_a_responses_reward_does_not_depend_on_padding_or_the_rest_of_the_batch():
    rm = tiny_reward_model()
    sequence = torch.tensor([[3, 7, 1, 9, 4]])
    alone = rm(sequence, torch.tensor([5]))
    batch = torch.randint(30, (3, 12))
    batch[1, :5] = sequence[0]  # the same tokens, then 7 tokens of padding (anything), among other rows
    together = rm(batch, torch.tensor([12, 5, 8]))
    assert torch.allclose(together[1], alone[0], atol=1e-6)


def test_normalize_makes_the_demonstrations_average_zero():
    rm = tiny_reward_model()
    demonstrations, lengths = torch.randint(30, (6, 10)), torch.tensor([10, 4, 7, 10, 2, 9])
    rm.normalize_(demonstrations, lengths)
    assert rm(demonstrations, lengths).mean().item() == pytest.approx(0.0, abs=1e-6)


def test_lengths_that_do_not_fit_the_batch_are_refused():
    with pytest.raises(ValueError, match="lengths must give each"):
        tiny_reward_model()(torch.zeros(2, 5, dtype=torch.long), torch.tensor([5, 6]))
