"""InstructGPT's step 3: PPO against the reward model, held near the SFT model by a KL penalty.

Ouyang et al. (2022), section 3.5. The policy π_φ^RL starts as the SFT model and maximises (eq. 2)

    objective(φ) = E_(x,y)~π_φ^RL [ r_θ(x, y) − β log( π_φ^RL(y|x) / π^SFT(y|x) ) ] + γ E_x~D_pretrain [ log π_φ^RL(x) ]

r_θ is the reward model, β the KL reward coefficient, π^SFT the frozen SFT model; with γ > 0 (here ptx_coef,
to keep γ free for the discount below) it is PPO-ptx. The policy is optimised with PPO's clipped objective
(Schulman et al. 2017, eq. 7), where r_t(φ) = π_φ(y_t | ·) / π_old(y_t | ·) and A_t is the advantage:

    L^CLIP(φ) = E_t [ min( r_t(φ) A_t, clip(r_t(φ), 1 − ε, 1 + ε) A_t ) ]

One PPO step, every detail named where it happens:
  1. rollout: sample responses to a batch of prompts from the policy with the KV cache, at temperature 1
     without top-k or top-p (so the samples come from π_old itself), keeping each token's log-probability;
  2. kl_penalised_rewards: −β (log π_RL − log π_SFT) at every response token, plus r_θ(x, y) at the last one;
  3. gae: advantages and returns from the value model's estimates (γ = 1, λ = 0.95), then masked_whiten;
  4. ppo_epochs passes over minibatches: clipped_policy_loss + value_coef · clipped_value_loss
     (+ ptx_coef · a pre-training batch's LM loss), one Adam step each.
All per-token tensors are (B, T) over the response tokens; mask is 1 on the tokens a response has (up to and
including its end-of-turn token) and 0 on the padding after it. Dropout is off in every model: the log-probabilities
of the rollout must be the ones the update recomputes.
"""
import copy
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm.auto import tqdm

from .chat import END_OF_TURN, encode_prompts, prompt_turns, require_chat_tokens
from .model import KVCache, set_dropout
from .training import fusable


@dataclass
class PPOConfig:
    """Everything that decides a PPO run, as plain values."""
    batch_size: int = 64  # prompts per rollout batch (one PPO step)
    minibatch_size: int = 16  # rollouts per gradient step
    ppo_epochs: int = 4  # passes over each rollout batch
    max_new_tokens: int = 40
    learning_rate: float = 1e-4
    beta: float = 0.05  # β, the KL reward coefficient
    target_kl: Optional[float] = None  # adaptive KL control: steer β so that the KL to SFT stays near this
    kl_horizon: int = 1000  # rollouts over which the adaptive controller moves β by at most 20%
    gamma: float = 1.0  # GAE's discount (not the ptx γ)
    lam: float = 0.95  # GAE's λ
    clip: float = 0.2  # ε of L^CLIP
    value_clip: float = 0.2
    value_coef: float = 0.5
    ptx_coef: float = 0.0  # the objective's γ: weight of the pre-training LM loss (PPO-ptx when > 0)
    grad_clip: float = 1.0
    value_warmup: int = 0  # steps at the start that train the value model alone, so that its first advantages mean something
    seed: int = 0

    def __post_init__(self):
        if self.beta < 0:
            raise ValueError(f"beta={self.beta} must be >= 0: it is the weight of the KL penalty (0 turns it off)")
        if self.clip <= 0 or self.value_clip <= 0:
            raise ValueError(f"clip={self.clip} and value_clip={self.value_clip} must be > 0 (PPO uses ε = 0.1 or 0.2)")
        if self.target_kl is not None and self.target_kl <= 0:
            raise ValueError(f"target_kl={self.target_kl} must be > 0, or None for a fixed β")
        if self.ptx_coef < 0:
            raise ValueError(f"ptx_coef={self.ptx_coef} must be >= 0")
        if not 0 <= self.lam <= 1 or not 0 <= self.gamma <= 1:
            raise ValueError(f"gamma={self.gamma} and lam={self.lam} must be between 0 and 1")
        if self.batch_size % self.minibatch_size:
            raise ValueError(f"batch_size={self.batch_size} must be a multiple of minibatch_size={self.minibatch_size}")
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens={self.max_new_tokens} must be >= 1")


# ---- the algebra of one PPO step: small functions on (B, T) tensors, each tested against a plain reference ----

def masked_mean(x, mask):
    """The mean of x over the entries where mask is 1."""
    return (x * mask).sum() / mask.sum().clamp(min=1)


def masked_whiten(x, mask, eps=1e-8):
    """(x − mean) / std over the valid entries only (padding does not shift the statistics); 0 on padding."""
    mean = masked_mean(x, mask)
    var = masked_mean((x - mean) ** 2, mask)
    return (x - mean) * torch.rsqrt(var + eps) * mask


def kl_penalised_rewards(scores, logprobs, ref_logprobs, mask, *, beta):
    """The per-token rewards of eq. 2: r_t = −β (log π_RL(y_t) − log π_SFT(y_t)) at every response token, and the
    reward model's score r_θ(x, y) added at the last valid one. Summed over a response: score − β Σ_t KL_t."""
    rewards = -beta * (logprobs - ref_logprobs) * mask
    last = mask.sum(dim=1).long() - 1  # (B,) the index of each response's last token
    return rewards.index_put((torch.arange(len(scores), device=rewards.device), last), scores, accumulate=True)


def gae(rewards, values, mask, *, gamma=1.0, lam=0.95):
    """Generalised advantage estimation (Schulman et al. 2016), backwards over the response tokens:

        δ_t = r_t + γ V_{t+1} − V_t,    A_t = δ_t + γ λ A_{t+1},    returns R_t = A_t + V_t

    The episode ends at the last valid token: V_{t+1} and A_{t+1} are 0 past it, nothing is bootstrapped.
    rewards, values, mask: (B, T). Returns (advantages, returns), 0 on padding."""
    B, T = rewards.shape
    advantages = torch.zeros_like(rewards)
    next_value = next_advantage = torch.zeros(B, dtype=rewards.dtype, device=rewards.device)
    for t in reversed(range(T)):
        delta = rewards[:, t] + gamma * next_value - values[:, t]
        next_advantage = (delta + gamma * lam * next_advantage) * mask[:, t]
        advantages[:, t] = next_advantage
        next_value = values[:, t] * mask[:, t]  # the value of token t is V_{t+1} for token t − 1; 0 past the end
    return advantages, (advantages + values) * mask


def clipped_policy_loss(logprobs, old_logprobs, advantages, mask, *, clip):
    """−L^CLIP: the negated mean over valid tokens of min( r_t A_t, clip(r_t, 1 − ε, 1 + ε) A_t ),
    r_t = exp(log π − log π_old). Returns (loss, clip fraction, approximate KL(π_old ‖ π)), the last two
    the share of tokens whose ratio left [1 − ε, 1 + ε] and the mean of (r_t − 1) − log r_t."""
    log_ratio = logprobs - old_logprobs
    ratio = torch.exp(log_ratio)
    objective = torch.min(ratio * advantages, torch.clamp(ratio, 1 - clip, 1 + clip) * advantages)
    with torch.no_grad():
        clip_fraction = masked_mean(((ratio - 1).abs() > clip).float(), mask)
        approx_kl = masked_mean((ratio - 1) - log_ratio, mask)
    return -masked_mean(objective, mask), clip_fraction, approx_kl


def clipped_value_loss(values, old_values, returns, mask, *, clip):
    """½ mean over valid tokens of max( (V − R)², (V_clipped − R)² ), where V_clipped = V_old + clip(V − V_old, −ε, ε):
    the value model is not rewarded for moving further than ε from its rollout-time estimate in one step."""
    clipped = old_values + torch.clamp(values - old_values, -clip, clip)
    return 0.5 * masked_mean(torch.max((values - returns) ** 2, (clipped - returns) ** 2), mask)


def kl_estimates(logprobs, ref_logprobs, mask):
    """Two estimates of each response's KL(π_RL ‖ π_SFT) from its own tokens, summed over them, (B,) each:
    k1 = Σ log(π_RL/π_SFT), unbiased but negative on some samples; k3 = Σ (ρ − 1) − log ρ with ρ = π_SFT/π_RL,
    also unbiased and never negative (Schulman, "Approximating KL divergence", 2020)."""
    log_rho = (ref_logprobs - logprobs) * mask
    return -log_rho.sum(dim=1), ((torch.exp(log_rho) - 1 - log_rho) * mask).sum(dim=1)


def explained_variance(values, returns, mask):
    """1 − Var(R − V) / Var(R) over the valid tokens: 1 when the values predict the returns, ≤ 0 when useless."""
    var_returns = masked_mean((returns - masked_mean(returns, mask)) ** 2, mask)
    residual = returns - values
    var_residual = masked_mean((residual - masked_mean(residual, mask)) ** 2, mask)
    return (1 - var_residual / var_returns).item() if var_returns > 0 else float("nan")


class AdaptiveKLController:
    """Ziegler et al. (2019): β_{n+1} = β_n (1 + clip(KL / target − 1, −0.2, 0.2) · rollouts / horizon).
    A KL above the target raises β, below it lowers β."""

    def __init__(self, beta, target, horizon):
        self.beta, self.target, self.horizon = beta, target, horizon

    def update(self, kl, rollouts):
        error = min(max(kl / self.target - 1, -0.2), 0.2)
        self.beta *= 1 + error * rollouts / self.horizon
        return self.beta


# ---- models: the value model, and the log-probabilities of response tokens --------------------------------

class ValueModel(nn.Module):
    """V(x, y_<t): a copy of the reward model (its backbone and scalar head), read at every position instead of
    the last. InstructGPT initialised the value function from the RM: at the start it estimates, from each
    prefix, the score the finished response will get."""

    def __init__(self, reward_model):
        super().__init__()
        self.gpt, self.head = copy.deepcopy(reward_model.gpt), copy.deepcopy(reward_model.head)
        self.register_buffer("offset", reward_model.offset.detach().clone())

    def forward(self, idx):
        return self.head(self.gpt.hidden_states(idx)).squeeze(-1) - self.offset  # (B, L)


def response_positions(prompt_lengths, T, L):
    """(B, T) positions in the full sequences of length L whose outputs predict response token t: prompt length
    − 1 + t. Positions past a response's end are clamped into the sequence (the mask discards what they give)."""
    positions = prompt_lengths[:, None] - 1 + torch.arange(T, device=prompt_lengths.device)[None, :]
    return positions.clamp(max=L - 2)


def response_logprobs(policy, idx, prompt_lengths, T, *, with_entropy=False):
    """Teacher-forced log π(y_t | x, y_<t) of the response tokens in idx (B, L), (B, T); with_entropy also the
    entropy of π at each of those positions. Padding past a response gives numbers that the mask discards.
    The unembedding reads only the T positions that predict response tokens, not the prompt's: with a vocabulary
    of 1,024 it is the largest matmul of a position, and most positions of a PPO batch are prompt."""
    hidden = policy.hidden_states(idx)  # (B, L, C)
    positions = response_positions(prompt_lengths, T, idx.size(1))  # (B, T)
    hidden = hidden.gather(1, positions[:, :, None].expand(-1, -1, hidden.size(-1)))  # (B, T, C)
    logp = F.log_softmax(policy.lm_head(hidden), dim=-1)  # (B, T, V)
    tokens = idx.gather(1, positions + 1)  # (B, T): the token each position predicts
    chosen = logp.gather(2, tokens[:, :, None]).squeeze(-1)
    if not with_entropy:
        return chosen
    with torch.no_grad():  # a statistic, never differentiated
        return chosen, -(logp.exp() * logp).sum(dim=-1)


def token_values(value_model, idx, prompt_lengths, T):
    """V at the positions that predict each response token (the state before it): (B, T)."""
    values = value_model(idx)  # (B, L)
    return values.gather(1, response_positions(prompt_lengths, T, idx.size(1)))


# ---- rollouts ----------------------------------------------------------------------------------------------

@dataclass
class Rollout:
    """A batch of sampled responses. idx (B, L): prompt then response, right-padded with 0; prompt_lengths (B,);
    mask and logprobs (B, T) over the response tokens, logprobs those of π_old while sampling; the prompts and
    the responses as text (a response ends with the end-of-turn token when the policy ended its turn)."""
    prompts: list
    responses: list
    idx: torch.Tensor
    prompt_lengths: torch.Tensor
    mask: torch.Tensor
    logprobs: torch.Tensor

    @property
    def lengths(self):
        return self.prompt_lengths + self.mask.sum(dim=1).long()  # (B,) real tokens of prompt and response


def sample_responses(policy, prompt_ids, max_new_tokens, *, end_id, generator=None, use_cache=True):
    """Sample up to max_new_tokens tokens after each of the equally long prompts (B, P), at temperature 1 with no
    top-k or top-p: the distribution sampled is π itself. Returns (tokens, logprobs, mask), each (B, T); a row's
    mask is 1 up to and including its end-of-turn token. Stops when every row has ended its turn.
    use_cache=False recomputes the whole sequence at every step (for the benchmark)."""
    policy._check_input(prompt_ids)  # once: the sampled ids are valid, and rollout() left room for the response
    with torch.inference_mode():  # no autograd bookkeeping at all: a one-token step is mostly overhead
        out = _sample_responses(policy, prompt_ids, max_new_tokens, end_id=end_id, generator=generator,
                                use_cache=use_cache)
    return tuple(part.clone() for part in out)  # normal tensors again, which the update may use under autograd


def _sample_responses(policy, prompt_ids, max_new_tokens, *, end_id, generator, use_cache):
    B = prompt_ids.size(0)
    cache = KVCache(policy.config, B, prompt_ids.device, policy.transformer.wte.weight.dtype) if use_cache else None
    seq, step_input = prompt_ids, prompt_ids
    ended = torch.zeros(B, dtype=torch.bool, device=prompt_ids.device)
    tokens, logprobs, mask = [], [], []
    for _ in range(max_new_tokens):
        h = policy._hidden_states(step_input if use_cache else seq, cache)  # (B, t, C)
        logp = F.log_softmax(policy.lm_head(h[:, -1]), dim=-1)  # (B, V): log π(· | x, y_<t)
        token = torch.multinomial(logp.exp(), 1, generator=generator)  # (B, 1)
        tokens.append(token[:, 0])
        logprobs.append(logp.gather(1, token)[:, 0])
        mask.append(~ended)
        ended = ended | (token[:, 0] == end_id)
        if ended.all():
            break
        seq, step_input = torch.cat([seq, token], dim=1), token
    return torch.stack(tokens, 1), torch.stack(logprobs, 1), torch.stack(mask, 1).float()


def rollout(policy, tokenizer, prompts, max_new_tokens, *, generator=None, use_cache=True):
    """Responses of the policy to prompts (texts of user turns, or dialogues whose next turn it writes), sampled in
    groups of equal prompt length, gathered into one right-padded Rollout. A clear error when a prompt leaves no
    room for max_new_tokens in the context."""
    require_chat_tokens(tokenizer)
    end_id = tokenizer.special_tokens[END_OF_TURN]
    encoded, groups = encode_prompts(tokenizer, [prompt_turns(p) for p in prompts], max_new_tokens,
                                     policy.config.block_size)
    was_training = policy.training
    policy.eval()
    device = policy.lm_head.weight.device
    parts = [None] * len(prompts)
    for length, members in sorted(groups.items()):
        ids = torch.tensor([encoded[i] for i in members], device=device)
        out = sample_responses(policy, ids, max_new_tokens, end_id=end_id, generator=generator, use_cache=use_cache)
        for row, i in enumerate(members):
            parts[i] = tuple(part[row] for part in out)
    policy.train(was_training)
    T = max(len(tokens) for tokens, _, _ in parts)
    L = max(len(e) for e in encoded) + T
    idx = torch.zeros(len(prompts), L, dtype=torch.long, device=device)
    mask, logprobs = torch.zeros(len(prompts), T, device=device), torch.zeros(len(prompts), T, device=device)
    responses = []
    for row, (ids, (tokens, logp, valid)) in enumerate(zip(encoded, parts)):
        n = int(valid.sum())
        idx[row, : len(ids)] = torch.tensor(ids, device=device)
        idx[row, len(ids) : len(ids) + n] = tokens[:n]
        mask[row, :n], logprobs[row, :n] = 1.0, logp[:n]
        responses.append(tokenizer.decode(tokens[:n].tolist()))
    prompt_lengths = torch.tensor([len(e) for e in encoded], device=device)
    return Rollout(list(prompts), responses, idx, prompt_lengths, mask, logprobs)


# ---- the trainer ---------------------------------------------------------------------------------------------

@dataclass
class Experience:
    """A rollout with everything PPO computes from it before updating: the reference model's log-probabilities,
    the value model's estimates, the reward model's scores, the per-token rewards, advantages and returns."""
    rollout: Rollout
    ref_logprobs: torch.Tensor
    values: torch.Tensor
    scores: torch.Tensor
    rewards: torch.Tensor
    advantages: torch.Tensor
    returns: torch.Tensor


def check_models(policy, reference, reward_model, tokenizer):
    """Clear errors for models that cannot work together: another tokenizer or vocabulary, another shape."""
    require_chat_tokens(tokenizer)
    if policy.config.vocab_size != tokenizer.vocab_size:
        raise ValueError(f"the policy has a vocabulary of {policy.config.vocab_size} tokens but the tokenizer has "
                         f"{tokenizer.vocab_size}: use the tokenizer the policy was trained with")
    ours = {k: tuple(v.shape) for k, v in policy.state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    if ours != theirs:
        raise ValueError(f"the reference model's shape ({reference.config}) differs from the policy's "
                         f"({policy.config}): the reference is the SFT model the policy starts from")
    reward_model.check_tokenizer(tokenizer)
    rm = reward_model.gpt.config
    if rm.vocab_size != policy.config.vocab_size or rm.block_size < policy.config.block_size:
        raise ValueError(f"the reward model reads {rm.vocab_size} token ids in a context of {rm.block_size}, the "
                         f"policy writes {policy.config.vocab_size} in {policy.config.block_size}: they must share "
                         "the tokenizer, and the reward model must see whole responses")


class PPOTrainer:
    """PPO on a policy (a GPT, modified in place) against a reward model, with the KL penalty to a frozen reference.

    prompts: what to sample responses to: user turns (texts), or Dialogues. labeler: optional, a gold labeler whose
    mean score of the rollouts is logged beside the reward model's. ptx_data: optional LMData of pre-training text,
    whose LM loss joins the loss with weight config.ptx_coef. score: optional, score(prompts, responses) -> one
    number per response, the reward in place of the reward model's (which still starts the value model): PPO
    against the gold labeler itself, for instance (labeler_reward). step() runs one PPO step and returns its
    statistics; run(steps) runs several, and history keeps every step's."""

    def __init__(self, policy, reference, reward_model, tokenizer, *, prompts, config=None, labeler=None,
                 ptx_data=None, value_model=None, score=None):
        check_models(policy, reference, reward_model, tokenizer)
        if not prompts:
            raise ValueError("PPO needs prompts to sample responses to")
        self.config = config = config or PPOConfig()
        self.tokenizer, self.prompts, self.labeler, self.ptx_data = tokenizer, list(prompts), labeler, ptx_data
        self.score = score
        self.policy, self.reference = set_dropout(policy, 0.0), set_dropout(reference, 0.0).eval()
        self.reward_model = reward_model.eval()
        set_dropout(reward_model.gpt, 0.0)
        self.value = (value_model or ValueModel(reward_model)).requires_grad_(True)
        set_dropout(self.value.gpt, 0.0)
        self.parameters = [*self.policy.parameters(), *self.value.parameters()]
        self.optimizer = torch.optim.Adam(self.parameters, lr=config.learning_rate, eps=1e-5,
                                          fused=fusable(self.parameters))
        device = policy.lm_head.weight.device
        self.generator = torch.Generator(device).manual_seed(config.seed)  # prompts, samples and minibatches
        self.ptx_generator = torch.Generator().manual_seed(config.seed + 1)
        self.kl_controller = (AdaptiveKLController(config.beta, config.target_kl, config.kl_horizon)
                              if config.target_kl else None)
        self.beta, self.iter, self.history, self.elapsed = config.beta, 0, defaultdict(list), 0.0
        self._last_good = self._snapshot()  # the weights an interrupted or diverged step returns to

    @torch.no_grad()
    def experience(self, prompts):
        """Rollouts for prompts, and everything computed from them before the update (Experience)."""
        roll = rollout(self.policy, self.tokenizer, prompts, self.config.max_new_tokens, generator=self.generator)
        T, mask = roll.mask.size(1), roll.mask
        ref_logprobs = response_logprobs(self.reference, roll.idx, roll.prompt_lengths, T)
        values = token_values(self.value, roll.idx, roll.prompt_lengths, T) * mask
        if self.score is None:
            scores = self.reward_model(roll.idx, roll.lengths)  # r_θ(x, y), read at the response's last token
        else:
            scores = torch.as_tensor(self.score(roll.prompts, roll.responses), dtype=torch.float, device=mask.device)
        rewards = kl_penalised_rewards(scores, roll.logprobs, ref_logprobs, mask, beta=self.beta)
        advantages, returns = gae(rewards, values, mask, gamma=self.config.gamma, lam=self.config.lam)
        return Experience(roll, ref_logprobs, values, scores, rewards, advantages, returns)

    def step(self):
        """One PPO step: a batch of rollouts, then ppo_epochs passes of minibatch updates. Returns its statistics."""
        cfg, start = self.config, time.perf_counter()
        self._last_good = self._snapshot()  # this step starts from here
        rows = torch.randint(len(self.prompts), (cfg.batch_size,), generator=self.generator, device=self.generator.device)
        exp = self.experience([self.prompts[i] for i in rows.tolist()])
        roll, mask = exp.rollout, exp.rollout.mask
        advantages = masked_whiten(exp.advantages, mask)  # over the valid tokens only
        stats = self._rollout_stats(exp)
        losses = defaultdict(list)
        for _ in range(cfg.ppo_epochs):
            order = torch.randperm(cfg.batch_size, generator=self.generator, device=self.generator.device)
            for mb in order.split(cfg.minibatch_size):
                # This minibatch's rollouts up to the longest of them: the padding after it is never read, and the
                # masked means below are the same without its columns
                T, idx = int(mask[mb].sum(1).max()), roll.idx[mb, : int(roll.lengths[mb].max())]
                m, old_logprobs, old_values, mb_advantages, returns = (
                    x[mb, :T] for x in (mask, roll.logprobs, exp.values, advantages, exp.returns))
                logprobs, entropy = response_logprobs(self.policy, idx, roll.prompt_lengths[mb], T, with_entropy=True)
                values = token_values(self.value, idx, roll.prompt_lengths[mb], T)
                if not losses["policy loss"]:  # before any update of this step, π = π_old: the ratio must be 1
                    stats["first ratio error"] = ((logprobs - old_logprobs).exp() - 1).mul(m).abs().max().item()
                pg_loss, clip_fraction, approx_kl = clipped_policy_loss(logprobs, old_logprobs, mb_advantages, m,
                                                                        clip=cfg.clip)
                vf_loss = clipped_value_loss(values, old_values, returns, m, clip=cfg.value_clip)
                loss = pg_loss + cfg.value_coef * vf_loss
                if self.ptx_data is not None:  # PPO-ptx: γ E_pretrain[log π(x)], as a loss
                    _, ptx_loss = self.policy(*self.ptx_data.get_batch("train", self.ptx_generator))
                    loss = loss + cfg.ptx_coef * ptx_loss
                    losses["ptx loss"].append(ptx_loss.item())
                if self.iter < cfg.value_warmup:  # the policy waits until the values are worth following
                    loss = cfg.value_coef * vf_loss
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                grad_norm = torch.nn.utils.clip_grad_norm_(self.parameters, cfg.grad_clip)
                if not (torch.isfinite(loss) and torch.isfinite(grad_norm)):
                    self._restore(self._last_good)
                    raise FloatingPointError(
                        f"PPO step {self.iter + 1}: the loss is {loss.item()} and the gradient norm {grad_norm.item()}, "
                        f"not finite; training stopped and the weights after step {self.iter} are kept. Try a lower "
                        "learning_rate or a larger beta")
                self.optimizer.step()
                for name, value in (("policy loss", pg_loss), ("value loss", vf_loss), ("clip fraction", clip_fraction),
                                    ("approx kl", approx_kl), ("entropy", masked_mean(entropy, m))):
                    losses[name].append(value.item())
        stats.update({name: sum(v) / len(v) for name, v in losses.items()})
        if self.kl_controller is not None:
            self.beta = self.kl_controller.update(stats["kl"], cfg.batch_size)
        self.iter += 1
        stats.update({"step": self.iter, "seconds": time.perf_counter() - start})
        self.elapsed += stats["seconds"]
        for name, value in stats.items():
            self.history[name].append(value)
        return stats

    def _rollout_stats(self, exp):
        roll, mask = exp.rollout, exp.rollout.mask
        k1, k3 = kl_estimates(roll.logprobs, exp.ref_logprobs, mask)
        stats = {"reward": exp.scores.mean().item(), "kl": k1.mean().item(), "kl k3": k3.mean().item(),
                 "beta": self.beta, "non-score reward": (exp.rewards.sum(1) - exp.scores).mean().item(),
                 "explained variance": explained_variance(exp.values, exp.returns, mask),
                 "response length": mask.sum(1).mean().item()}
        if self.labeler is not None:
            gold = [self.labeler.gold_score(p, r) for p, r in zip(roll.prompts, roll.responses)]
            stats["gold"] = sum(gold) / len(gold)
        return stats

    def run(self, steps, progress=True, on_step=None):
        """Run `steps` PPO steps; returns the history. on_step(trainer, stats) runs after each. Ctrl-C (or the
        notebook's stop button) ends the run cleanly, with the weights of the last finished step."""
        bar = tqdm(total=steps, desc="PPO", unit="step", disable=not progress, mininterval=1.0)
        try:
            for _ in range(steps):
                stats = self.step()
                bar.update(1)
                bar.set_postfix({k: f"{stats[k]:.3f}" for k in ("reward", "gold", "kl") if k in stats}, refresh=False)
                if on_step is not None:
                    on_step(self, stats)
        except KeyboardInterrupt:
            self._restore(self._last_good)
            bar.write(f"interrupted: the weights after step {self.iter} are kept. Call run() again to continue.")
        finally:
            bar.close()
        return self.history

    def _snapshot(self):
        return copy.deepcopy({"policy": self.policy.state_dict(), "value": self.value.state_dict(),
                              "optimizer": self.optimizer.state_dict()})

    def _restore(self, snapshot):
        self.policy.load_state_dict(snapshot["policy"])
        self.value.load_state_dict(snapshot["value"])
        self.optimizer.load_state_dict(snapshot["optimizer"])


def labeler_reward(labeler, scale=1.0):
    """A score function for PPOTrainer(score=...): scale x the labeler's gold score of each response."""
    return lambda prompts, responses: [scale * labeler.gold_score(p, r) for p, r in zip(prompts, responses)]
