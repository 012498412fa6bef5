"""minigpt.ppo against independent references: GAE as a plain Python loop, the KL-penalised reward written out,
masked whitening as whitening of the valid entries, the clipped objective's gradients; rollouts against
teacher forcing; one PPO step's guards and bad input."""
import copy
import math

import pytest
import torch

from minigpt import GPT, BPETokenizer, GPTConfig, LMData
from minigpt.chat import END_OF_TURN, SPECIAL_TOKENS, format_chat
from minigpt.ppo import (AdaptiveKLController, PPOConfig, PPOTrainer, ValueModel, clipped_policy_loss,
                         clipped_value_loss, gae, kl_estimates, kl_penalised_rewards, labeler_reward, masked_whiten,
                         response_logprobs, rollout, token_values)
from minigpt.reward import RewardModel
from minigpt.tinyworld import Dialogue


def right_padded_mask(lengths, T):
    return (torch.arange(T)[None, :] < torch.tensor(lengths)[:, None]).float()


def gae_loop(rewards, values, lengths, gamma, lam):
    """GAE written out per response, over its own tokens only (the episode ends at its last one)."""
    advantages, returns = [], []
    for r, v, n in zip(rewards.tolist(), values.tolist(), lengths):
        adv, running = [0.0] * len(r), 0.0
        for t in reversed(range(n)):
            next_value = v[t + 1] if t + 1 < n else 0.0
            running = r[t] + gamma * next_value - v[t] + gamma * lam * running
            adv[t] = running
        advantages.append(adv)
        returns.append([adv[t] + v[t] if t < n else 0.0 for t in range(len(r))])
    return torch.tensor(advantages), torch.tensor(returns)


@pytest.mark.parametrize("gamma, lam", [(1.0, 0.95), (0.9, 0.5), (0.99, 1.0), (1.0, 0.0)])
def test_gae_equals_a_plain_loop_on_random_rewards_values_and_masks(gamma, lam):
    torch.manual_seed(0)
    lengths = [7, 1, 4, 7, 3]
    mask = right_padded_mask(lengths, 7)
    rewards, values = torch.randn(5, 7), torch.randn(5, 7)
    rewards_padded, values_padded = rewards.clone(), values.clone()
    rewards_padded[mask == 0], values_padded[mask == 0] = 99.0, -99.0  # whatever lies past the end must not count
    advantages, returns = gae(rewards_padded, values_padded, mask, gamma=gamma, lam=lam)
    expected_adv, expected_ret = gae_loop(rewards, values, lengths, gamma, lam)
    assert torch.allclose(advantages, expected_adv, atol=1e-5)
    assert torch.allclose(returns, expected_ret, atol=1e-5)


def test_with_lambda_1_and_gamma_1_the_returns_are_the_reward_to_go():
    torch.manual_seed(1)
    lengths = [5, 2, 3]
    mask = right_padded_mask(lengths, 5)
    rewards = torch.randn(3, 5) * mask
    _, returns = gae(rewards, torch.randn(3, 5), mask, gamma=1.0, lam=1.0)
    reward_to_go = torch.tensor([[sum(row[t:n]) if t < n else 0.0 for t in range(5)]
                                 for row, n in zip(rewards.tolist(), lengths)])
    assert torch.allclose(returns, reward_to_go, atol=1e-5)


def test_with_lambda_0_the_advantages_are_the_td_residuals():
    torch.manual_seed(2)
    lengths = [4, 1, 3]
    mask = right_padded_mask(lengths, 4)
    rewards, values = torch.randn(3, 4), torch.randn(3, 4)
    advantages, _ = gae(rewards, values, mask, gamma=0.9, lam=0.0)
    for b, n in enumerate(lengths):
        for t in range(n):
            next_value = values[b, t + 1].item() if t + 1 < n else 0.0
            assert advantages[b, t].item() == pytest.approx(rewards[b, t].item() + 0.9 * next_value - values[b, t].item(),
                                                            abs=1e-5)


def test_the_per_token_rewards_sum_to_the_score_minus_beta_times_the_kl():
    torch.manual_seed(3)
    lengths = [6, 2, 4]
    mask = right_padded_mask(lengths, 6)
    logprobs, ref_logprobs, scores = -torch.rand(3, 6) * 3, -torch.rand(3, 6) * 3, torch.randn(3)
    rewards = kl_penalised_rewards(scores, logprobs, ref_logprobs, mask, beta=0.1)
    for b, n in enumerate(lengths):
        kl = sum(logprobs[b, t].item() - ref_logprobs[b, t].item() for t in range(n))
        assert rewards[b].sum().item() == pytest.approx(scores[b].item() - 0.1 * kl, abs=1e-5)
        assert rewards[b, n - 1].item() == pytest.approx(
            scores[b].item() - 0.1 * (logprobs[b, n - 1] - ref_logprobs[b, n - 1]).item(), abs=1e-5)  # score: last token
        assert (rewards[b, n:] == 0).all()


def test_the_k3_kl_estimator_is_never_negative_while_k1_can_be():
    torch.manual_seed(4)
    mask = right_padded_mask([8] * 200, 8)
    logprobs, ref_logprobs = -torch.rand(200, 8) * 4, -torch.rand(200, 8) * 4
    k1, k3 = kl_estimates(logprobs, ref_logprobs, mask)
    assert (k3 >= 0).all() and (k1 < 0).any()
    same_k1, same_k3 = kl_estimates(logprobs, logprobs, mask)
    assert (same_k1 == 0).all() and (same_k3 == 0).all()


def test_masked_whitening_equals_whitening_of_the_valid_entries():
    torch.manual_seed(5)
    lengths = [5, 2, 4]
    mask = right_padded_mask(lengths, 5)
    x = torch.randn(3, 5) * 3 + 2
    x[mask == 0] = 1000.0
    whitened = masked_whiten(x, mask)
    valid = torch.tensor([v for row, n in zip(x.tolist(), lengths) for v in row[:n]], dtype=torch.float64)
    expected = (valid - valid.mean()) / valid.std(unbiased=False)
    assert torch.allclose(whitened[mask == 1].double(), expected, atol=1e-5)
    assert (whitened[mask == 0] == 0).all()


def test_the_clipped_objective_has_zero_gradient_where_the_clip_is_active():
    # token 0: ratio 1.5 > 1 + ε with A > 0 (clipped); token 1: ratio 0.5 < 1 − ε with A < 0 (clipped);
    # token 2: ratio 1.5 with A < 0 (min picks the unclipped term); token 3: ratio 1.05, inside the clip range
    old = torch.zeros(1, 4)
    logprobs = torch.log(torch.tensor([[1.5, 0.5, 1.5, 1.05]])).requires_grad_(True)
    advantages = torch.tensor([[1.0, -1.0, -1.0, 2.0]])
    loss, clip_fraction, approx_kl = clipped_policy_loss(logprobs, old, advantages, torch.ones(1, 4), clip=0.2)
    loss.backward()
    assert logprobs.grad[0, 0] == 0 and logprobs.grad[0, 1] == 0
    assert logprobs.grad[0, 2] == pytest.approx(-1.0 * -1.5 / 4) and logprobs.grad[0, 3] == pytest.approx(-2 * 1.05 / 4)
    assert loss.item() == pytest.approx(-(1.2 * 1 + 0.8 * -1 + 1.5 * -1 + 1.05 * 2) / 4)
    assert clip_fraction.item() == pytest.approx(3 / 4)  # the ratios 1.5, 0.5, 1.5 are outside [0.8, 1.2]
    expected_kl = sum((r - 1) - math.log(r) for r in (1.5, 0.5, 1.5, 1.05)) / 4
    assert approx_kl.item() == pytest.approx(expected_kl, rel=1e-5)


def test_value_clipping_behaves_as_written():
    old, returns, mask = torch.tensor([[0.0, 0.0, 0.0]]), torch.tensor([[1.0, 1.0, -1.0]]), torch.ones(1, 3)
    values = torch.tensor([[0.5, 2.0, 0.1]], requires_grad=True)
    loss = clipped_value_loss(values, old, returns, mask, clip=0.2)
    # clipped values: 0.2, 0.2, 0.1; squared errors max((V-R)², (Vc-R)²): max(0.25, 0.64), max(1, 0.64), max(1.21, 1.21)
    assert loss.item() == pytest.approx(0.5 * (0.64 + 1.0 + 1.21) / 3)
    loss.backward()
    assert values.grad[0, 0] == 0  # the clipped term is the larger one: V gets no gradient through it
    assert values.grad[0, 1] == pytest.approx((2.0 - 1.0) / 3)


def test_the_adaptive_controller_moves_beta_the_right_way():
    controller = AdaptiveKLController(beta=0.1, target=1.0, horizon=100)
    assert controller.update(kl=3.0, rollouts=10) == pytest.approx(0.1 * (1 + 0.2 * 0.1))  # KL too high: β up, capped
    controller.beta = 0.1
    assert controller.update(kl=0.9, rollouts=10) == pytest.approx(0.1 * (1 - 0.1 * 0.1))  # a little low: β down
    controller.beta = 0.1
    assert controller.update(kl=1.0, rollouts=10) == pytest.approx(0.1)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="beta=-0.1 must be >= 0"):
        PPOConfig(beta=-0.1)
    with pytest.raises(ValueError, match="must be > 0"):
        PPOConfig(clip=0)
    with pytest.raises(ValueError, match="must be > 0"):
        PPOConfig(clip=-0.2)
    with pytest.raises(ValueError, match="multiple of minibatch_size"):
        PPOConfig(batch_size=10, minibatch_size=4)


# ---- rollouts and the trainer, on tiny models ------------------------------------------------------------

TEXT = "what colour is a banana? yellow. what colour is grass? green. the opposite of hot is cold. " * 20
TOKENIZER = BPETokenizer().train(TEXT, 300, special_tokens=SPECIAL_TOKENS)
PROMPTS = ["what colour is a banana?", "the opposite of hot?", "what colour is grass and what colour is a banana?"]


def gpt(seed=0, **shape):
    torch.manual_seed(seed)
    return GPT(GPTConfig(**(dict(vocab_size=TOKENIZER.vocab_size, block_size=48, n_layer=2, n_head=2, n_embd=16) | shape)))


def ending_early(policy, strength=4.0):
    """The policy writes the end-of-turn token with probability ~15% at each step, so that responses differ in
    length: the final LayerNorm's bias points along the end token's (tied) embedding."""
    end = TOKENIZER.special_tokens[END_OF_TURN]
    with torch.no_grad():
        policy.transformer.ln_f.bias.zero_()
        policy.transformer.ln_f.bias[0] = strength
        policy.transformer.wte.weight[end].zero_()
        policy.transformer.wte.weight[end, 0] = 1.0
    return policy


def trainer(config=None, ptx_data=None, labeler=None, score=None, **models):
    policy = models.get("policy", ending_early(gpt(0)))
    reference = models.get("reference", copy.deepcopy(policy))
    rm = models.get("rm", RewardModel(gpt(1), TOKENIZER))
    config = config or PPOConfig(batch_size=4, minibatch_size=2, ppo_epochs=2, max_new_tokens=8, learning_rate=1e-3)
    return PPOTrainer(policy, reference, rm, TOKENIZER, prompts=PROMPTS, config=config, labeler=labeler,
                      ptx_data=ptx_data, score=score)


def test_rollout_logprobs_equal_teacher_forced_logprobs_with_padding():
    policy = ending_early(gpt(0))
    roll = rollout(policy, TOKENIZER, PROMPTS * 3, max_new_tokens=12, generator=torch.Generator().manual_seed(0))
    assert len(set(roll.prompt_lengths.tolist())) == 3 and len(set(roll.mask.sum(1).tolist())) > 1  # padded both ways
    with torch.no_grad():
        forced = response_logprobs(policy, roll.idx, roll.prompt_lengths, roll.mask.size(1))
    assert torch.allclose(forced * roll.mask, roll.logprobs, atol=1e-5)
    uncached = rollout(policy, TOKENIZER, PROMPTS * 3, 12, generator=torch.Generator().manual_seed(0),
                       use_cache=False)
    assert torch.equal(uncached.idx, roll.idx) and torch.allclose(uncached.logprobs, roll.logprobs, atol=1e-5)


def test_a_dialogue_prompt_is_rolled_out_after_its_turns_and_judged_as_a_dialogue():
    dialogue = Dialogue("follow-up", (("user", "what colour is a banana?"), ("assistant", "yellow."),
                                      ("user", "and grass?")), "green.", "answer", ("grass", "green", None))
    roll = rollout(ending_early(gpt(0)), TOKENIZER, [dialogue, PROMPTS[0]], 8,
                   generator=torch.Generator().manual_seed(0))
    p = roll.prompt_lengths[0].item()
    assert roll.idx[0, :p].tolist() == TOKENIZER.encode(format_chat(dialogue.turns, reply=True))
    seen = []

    class Watcher:  # a gold labeler that records what it is handed
        def gold_score(self, prompt, response):
            seen.append(prompt)
            return 0.0

    ppo = trainer(labeler=Watcher())
    ppo.prompts = [dialogue]
    ppo.step()
    assert seen and all(prompt is dialogue for prompt in seen)


def test_a_score_function_replaces_the_reward_models_score_and_is_handed_each_prompt_and_response():
    class Lengths:  # a labeler that likes long responses, and records what it is handed
        def __init__(self):
            self.seen = []

        def gold_score(self, prompt, response):
            self.seen.append((prompt, response))
            return float(len(response))

    labeler = Lengths()
    ppo = trainer(score=labeler_reward(labeler, scale=2.0), config=PPOConfig(batch_size=6, minibatch_size=3,
                                                                               max_new_tokens=8, beta=0.1))
    exp = ppo.experience(PROMPTS * 2)
    assert labeler.seen == list(zip(PROMPTS * 2, exp.rollout.responses))
    assert exp.scores.tolist() == [2.0 * len(r) for r in exp.rollout.responses]
    kl = (exp.rollout.logprobs - exp.ref_logprobs) * exp.rollout.mask
    assert torch.allclose(exp.rewards.sum(1), exp.scores - 0.1 * kl.sum(1), atol=1e-5)  # into the rewards, as r_θ would


def test_a_rollouts_mask_ends_at_the_end_of_turn_token_and_its_text_with_it():
    roll = rollout(ending_early(gpt(0)), TOKENIZER, PROMPTS * 4, max_new_tokens=20, generator=torch.Generator().manual_seed(1))
    end = TOKENIZER.special_tokens[END_OF_TURN]
    for row, (p, n) in enumerate(zip(roll.prompt_lengths.tolist(), roll.mask.sum(1).long().tolist())):
        response = roll.idx[row, p : p + n].tolist()
        assert end not in response[:-1]
        assert roll.responses[row] == TOKENIZER.decode(response)
        assert (response[-1] == end) == roll.responses[row].endswith(END_OF_TURN)
        assert (roll.idx[row, p + n :] == 0).all()


def test_the_value_model_starts_as_the_reward_model():
    rm = RewardModel(gpt(1), TOKENIZER).eval()
    rm.offset.fill_(0.3)
    roll = rollout(gpt(0), TOKENIZER, PROMPTS, 8, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        values = ValueModel(rm)(roll.idx)  # (B, L)
        scores = rm(roll.idx, roll.lengths)
        assert torch.allclose(values[torch.arange(3), roll.lengths - 1], scores, atol=1e-6)
        T = roll.mask.size(1)
        assert token_values(ValueModel(rm), roll.idx, roll.prompt_lengths, T).shape == (3, T)


def test_on_the_first_step_the_ratio_is_exactly_1_and_the_kl_to_the_reference_is_0():
    stats = trainer().step()
    assert stats["first ratio error"] < 1e-5
    assert abs(stats["kl"]) < 1e-5 and stats["kl k3"] < 1e-6


def test_ppo_ptx_with_gamma_0_equals_plain_ppo_exactly():
    ptx = LMData(torch.randint(TOKENIZER.vocab_size, (400,)), block_size=16, batch_size=4)
    config = PPOConfig(batch_size=4, minibatch_size=2, ppo_epochs=2, max_new_tokens=8, learning_rate=1e-3)
    plain, with_ptx = trainer(config), trainer(PPOConfig(**{**config.__dict__, "ptx_coef": 0.0}), ptx_data=ptx)
    for _ in range(2):
        plain.step(), with_ptx.step()
    for a, b in zip(plain.policy.state_dict().values(), with_ptx.policy.state_dict().values()):
        assert torch.equal(a, b)
    assert "ptx loss" in with_ptx.history
    pulled = trainer(PPOConfig(**{**config.__dict__, "ptx_coef": 1.0}), ptx_data=ptx)
    pulled.step()
    assert not all(torch.equal(a, b) for a, b in zip(plain.policy.state_dict().values(),
                                                     pulled.policy.state_dict().values()))


def test_a_step_moves_the_policy_towards_higher_reward_responses():
    class LengthReward(RewardModel):  # scores a response by its length: the policy should learn to write longer ones
        def forward(self, idx, lengths):
            return lengths.float() / 10

    config = PPOConfig(batch_size=16, minibatch_size=8, ppo_epochs=4, max_new_tokens=12, learning_rate=3e-3, beta=0.0)
    t = trainer(config, rm=LengthReward(gpt(1), TOKENIZER))
    t.run(12, progress=False)
    first, last = t.history["response length"][:3], t.history["response length"][-3:]
    assert sum(last) / 3 > sum(first) / 3 + 1


def test_a_non_finite_loss_stops_training_and_keeps_the_last_good_weights():
    t = trainer()
    t.step()
    good = copy.deepcopy(t.policy.state_dict())
    with torch.no_grad():
        t.reward_model.head.bias.fill_(float("nan"))
    with pytest.raises(FloatingPointError, match="not finite; training stopped and the weights after step 1 are kept"):
        t.step()
    assert all(torch.equal(a, b) for a, b in zip(good.values(), t.policy.state_dict().values()))


def test_models_that_cannot_work_together_are_refused():
    with pytest.raises(ValueError, match="reference model's shape"):
        trainer(reference=gpt(0, n_embd=32))
    other = BPETokenizer().train(TEXT + " a blue banana.", 290, special_tokens=SPECIAL_TOKENS)
    with pytest.raises(ValueError, match="another tokenizer"):
        trainer(rm=RewardModel(gpt(1), other))
    with pytest.raises(ValueError, match="must share the tokenizer"):
        trainer(rm=RewardModel(gpt(1, vocab_size=400)))
    with pytest.raises(ValueError, match="with 8 new ones it would not fit the block_size of 16"):
        trainer(policy=gpt(0, block_size=16)).step()


def test_during_value_warmup_only_the_value_model_learns():
    config = PPOConfig(batch_size=4, minibatch_size=2, ppo_epochs=2, max_new_tokens=8, learning_rate=1e-3, value_warmup=1)
    t = trainer(config)
    policy_before, value_before = copy.deepcopy(t.policy.state_dict()), copy.deepcopy(t.value.state_dict())
    t.step()
    assert all(torch.equal(a, b) for a, b in zip(policy_before.values(), t.policy.state_dict().values()))
    assert not all(torch.equal(a, b) for a, b in zip(value_before.values(), t.value.state_dict().values()))
    t.step()  # warm-up over: the policy moves too
    assert not all(torch.equal(a, b) for a, b in zip(policy_before.values(), t.policy.state_dict().values()))


def test_an_interrupted_run_keeps_the_weights_of_the_last_finished_step(capsys):
    t = trainer()
    t.run(1, progress=False)
    finished = copy.deepcopy(t.policy.state_dict())

    def interrupted_midway(prompts):  # Ctrl-C after the step has begun to change the weights
        with torch.no_grad():
            t.policy.lm_head.weight.add_(1.0)
        raise KeyboardInterrupt

    t.experience = interrupted_midway
    t.run(3, progress=False)
    assert t.iter == 1 and "the weights after step 1 are kept" in capsys.readouterr().out
    assert all(torch.equal(a, b) for a, b in zip(finished.values(), t.policy.state_dict().values()))
