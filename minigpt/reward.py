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
import hashlib
import math
import random
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm.auto import tqdm

from .chat import END_OF_TURN, format_chat, prompt_turns, require_chat_tokens, respond
from .model import GPT, GPTConfig
from .training import Trainer, TrainConfig


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
    tokenizer: the one its inputs are encoded with; score_responses refuses text encoded with another.
    """

    def __init__(self, gpt, tokenizer=None):
        super().__init__()
        self.gpt = gpt
        self.head = nn.Linear(gpt.config.n_embd, 1)
        nn.init.normal_(self.head.weight, std=1 / math.sqrt(gpt.config.n_embd + 1))
        nn.init.zeros_(self.head.bias)
        self.register_buffer("offset", torch.zeros(()))
        self.tokenizer = tokenizer_fingerprint(tokenizer) if tokenizer is not None else None

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

    def check_tokenizer(self, tokenizer):
        if self.tokenizer is not None and tokenizer_fingerprint(tokenizer) != self.tokenizer:
            raise ValueError("this reward model reads token ids of another tokenizer than the one given: its scores of "
                             "text encoded with it would be meaningless. Use the tokenizer it was trained with "
                             "(zoo.tokenizer(chat=True) for the course's models)")

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """As nn.Module's, but a state of a reward model with another backbone shape is refused in plain words."""
        theirs, ours = _backbone_shape(state_dict), _backbone_shape(self.state_dict())
        if theirs != ours:
            raise ValueError(f"these reward-model weights are for a backbone of {theirs}, but this reward model's "
                             f"backbone has {ours}: build it on a GPT of the same shape")
        return super().load_state_dict(state_dict, strict, assign)

    # A model folder (cache.py) stores this as its config.json, and builds the model back from it.
    def folder_config(self):
        return {"kind": "reward model", "gpt": self.gpt.config.to_dict(), "tokenizer": self.tokenizer}

    @classmethod
    def from_folder_config(cls, config):
        model = cls(GPT(GPTConfig.from_dict(config["gpt"])))
        model.tokenizer = config["tokenizer"]
        return model


def _backbone_shape(state):
    """'n_layer=4, n_embd=128, vocab_size=1024', read from a reward model's state dict."""
    layers = {key.split(".")[3] for key in state if key.startswith("gpt.transformer.h.")}
    shape = f"n_layer={len(layers)}, n_embd={state['head.weight'].shape[1]}"
    embedding = state.get("gpt.transformer.wte.weight", state.get("gpt.lm_head.weight"))  # tied: either may be stored
    return shape if embedding is None else f"{shape}, vocab_size={embedding.shape[0]}"


# ---- comparison data: K responses per prompt, ranked by a labeler ----------------------------------------


@dataclass
class Comparison:
    """One prompt, its K responses, and a labeler's ranking of them: response indices, best first. The prompt is an
    instruction's text, or a dialogue (tinyworld.Dialogue) whose next turn the responses are."""
    prompt: object
    responses: list
    ranking: list

    def __post_init__(self):
        if any(not r.replace(END_OF_TURN, "").strip() for r in self.responses):
            raise ValueError(f"an empty response to {self.prompt!r}: every response needs some text to be judged")
        ranking_pairs(self.ranking)  # K >= 2 and a permutation, else a clear error
        if len(self.ranking) != len(self.responses):
            raise ValueError(f"the ranking orders {len(self.ranking)} responses but there are {len(self.responses)}")

    def ranked(self):
        """The responses in the labeler's order, best first."""
        return [self.responses[i] for i in self.ranking]


def sample_comparisons(model, tokenizer, items, labeler, *, k=(4, 9), temperatures=(0.5, 1.0, 1.5, 2.0),
                       max_new_tokens=40, seed=0, rounds=1, progress=False):
    """InstructGPT's comparison data: for each item, K responses sampled from the model (K drawn between k[0] and
    k[1]) and ranked by the labeler. An item is an Instruction (the comparison's prompt is its text) or a Dialogue
    (the comparison's prompt is the dialogue itself, and the responses are its next turn).

    Each response is sampled at a temperature drawn from `temperatures`, so that a prompt's responses range from
    the model's best to its worst: K copies of one answer teach a reward model nothing. A response that repeats
    another one of the same prompt, or has no words, is dropped (a labeler ranks different texts); a prompt left
    with fewer than 2 responses is skipped. rounds: that many rounds over the items, round r drawn with seed + r
    (more comparisons of the same prompts); progress shows a bar over the rounds."""
    made = []
    for r in tqdm(range(rounds), desc=f"sampling {len(items)} prompts' comparisons", disable=not progress):
        made += _comparison_round(model, tokenizer, items, labeler, k=k, temperatures=temperatures,
                                  max_new_tokens=max_new_tokens, seed=seed + r)
    return made


def _comparison_round(model, tokenizer, items, labeler, *, k, temperatures, max_new_tokens, seed):
    rng = random.Random(f"comparisons:{seed}")
    prompts = [getattr(item, "prompt", item) for item in items]  # an Instruction's text; a Dialogue itself
    slots = [(n, rng.choice(temperatures)) for n, item in enumerate(items) for _ in range(rng.randint(*k))]
    replies = [None] * len(slots)
    for t in sorted(set(temperatures)):
        chosen = [s for s, (_, temp) in enumerate(slots) if temp == t]
        if not chosen:
            continue
        texts = respond(model, tokenizer, [prompt_turns(prompts[slots[s][0]]) for s in chosen],
                        max_new_tokens=max_new_tokens, temperature=t, seed=rng.randrange(2**31))
        for s, text in zip(chosen, texts):
            replies[s] = text
    by_item = {}
    for (n, _), text in zip(slots, replies):
        if text.replace(END_OF_TURN, "").strip() and text not in by_item.setdefault(n, []):
            by_item[n].append(text)
    return [Comparison(prompts[n], responses, labeler.rank(items[n], responses))
            for n, responses in sorted(by_item.items()) if len(responses) >= 2]


def with_demonstrations(comparisons, items, labeler, *, own=True, foils=0, seed=0):
    """The comparisons with demonstrations among their responses, ranked again by the labeler: each prompt's own
    demonstration (own=True), and `foils` demonstrations drawn with seed from the prompts of the same kind (right in
    form, mostly wrong in content: the prompt's own may be drawn too). items: the Instructions (or Dialogues, each
    its own prompt) the comparisons' prompts come from. A demonstration is written as the course's replies are,
    " {response}<|end|>", and is not added where it is already among the responses."""
    rng, by_prompt, by_kind = random.Random(seed), {getattr(item, "prompt", item): item for item in items}, {}
    for item in items:
        by_kind.setdefault(item.kind, []).append(item)
    made = []
    for c in comparisons:
        item, responses = by_prompt[c.prompt], list(c.responses)
        extra = ([item] if own else []) + [rng.choice(by_kind[item.kind]) for _ in range(foils)]
        for source in extra:
            text = f" {source.response}{END_OF_TURN}"
            if text not in responses:
                responses.append(text)
        made.append(Comparison(c.prompt, responses, labeler.rank(item, responses)))
    return made


def reranked(comparisons, labeler):
    """The same prompts and responses, ranked by another labeler."""
    return [Comparison(c.prompt, c.responses, labeler.rank(c.prompt, c.responses)) for c in comparisons]


def with_unfinished(comparisons, labeler, *, seed=0):
    """The comparisons with one unfinished response added to each, ranked again by the labeler: a copy of one of its
    responses that end their turn (drawn with seed), cut before the end-of-turn token, as if the model had stopped
    there. Sampled responses end without that token only when the length limit cuts them off mid-sentence, so
    without such copies a reward model never learns what a missing end-of-turn token is worth. A comparison
    without a response that ends its turn is kept as it is."""
    rng, made = random.Random(f"unfinished:{seed}"), []
    for c in comparisons:
        ended = [r for r in c.responses if r.rstrip().endswith(END_OF_TURN)]
        cut = rng.choice(ended).rstrip()[: -len(END_OF_TURN)] if ended else ""
        if cut.strip() and cut not in c.responses:
            responses = [*c.responses, cut]
            c = Comparison(c.prompt, responses, labeler.rank(c.prompt, responses))
        made.append(c)
    return made


def tokenizer_fingerprint(tokenizer):
    """A short hash of a tokenizer's merges and special tokens: which ids mean which text."""
    table = repr((getattr(tokenizer, "merges", None), sorted(getattr(tokenizer, "special_tokens", {}).items()),
                  tokenizer.vocab_size))
    return hashlib.sha256(table.encode()).hexdigest()[:16]


def encode_response(tokenizer, prompt, response, block_size):
    """Token ids of a prompt and a response as the reward model reads them: the user's turn (or the dialogue's
    turns), the assistant's marker, then the response as written (with its end-of-turn token if the model wrote
    one)."""
    if not response.replace(END_OF_TURN, "").strip():
        raise ValueError(f"an empty response to {prompt!r}: the reward model scores responses with some text")
    require_chat_tokens(tokenizer)
    ids = tokenizer.encode(format_chat(prompt_turns(prompt), reply=True) + response)
    if len(ids) > block_size:
        raise ValueError(f"prompt and response have {len(ids)} tokens, more than the block_size of {block_size}: "
                         "shorten the prompt or the response")
    return ids


def reward_batch(sequences, pad_id=0):
    """(idx, lengths): token-id lists right-padded into (N, T), and each one's length."""
    lengths = torch.tensor([len(s) for s in sequences])
    idx = torch.full((len(sequences), int(lengths.max())), pad_id, dtype=torch.long)
    for row, s in enumerate(sequences):
        idx[row, : len(s)] = torch.tensor(s)
    return idx, lengths


class RewardData:
    """Comparisons as training batches, for the Trainer. get_batch(split, generator) -> (idx, lengths, ks): the
    responses of batch_size comparisons drawn at random, each comparison's K responses in ranked order one after
    another, and each one's K.

    grouped=True keeps a prompt's K responses together: one batch element, all C(K, 2) of its pairs from K
    forward passes (InstructGPT's way). grouped=False splits every comparison into its C(K, 2) pairs, each a
    separate data point (K = 2), shuffled: the way InstructGPT found to overfit."""

    def __init__(self, train, val, tokenizer, block_size, *, batch_size, grouped=True):
        if not train or not val:
            raise ValueError("RewardData needs comparisons in both splits, train and val")
        self.batch_size, self.grouped = batch_size, grouped
        self.splits = {"train": self._encode(train, tokenizer, block_size), "val": self._encode(val, tokenizer, block_size)}

    def _encode(self, comparisons, tokenizer, block_size):
        groups = [[encode_response(tokenizer, c.prompt, r, block_size) for r in c.ranked()] for c in comparisons]
        if self.grouped:
            return groups
        return [[group[i], group[j]] for group in groups for i, j in ranking_pairs(range(len(group)))]

    def get_batch(self, split, generator=None):
        groups = self.splits[split]
        rows = torch.randint(len(groups), (self.batch_size,), generator=generator).tolist()
        idx, lengths = reward_batch([seq for row in rows for seq in groups[row]])
        return idx, lengths, torch.tensor([len(groups[row]) for row in rows])


def reward_loss(rm, batch):
    """The K-wise ranking loss of a RewardData batch: score every response, then ranking_loss on each prompt's row."""
    device = next(rm.parameters()).device
    idx, lengths, ks = (t.to(device) for t in batch)
    scores = rm(idx, lengths)
    rows = torch.zeros(len(ks), int(ks.max()), device=device)
    rows = rows.masked_scatter(torch.arange(rows.size(1), device=device)[None, :] < ks[:, None], scores)  # row b: its K
    return ranking_loss(rows, ks)


@torch.no_grad()
def score_responses(rm, tokenizer, prompt, responses, *, batch_size=256):
    """The reward model's score of each response, as a list of floats. prompt: the one prompt they answer (an
    instruction's text or a dialogue), or a list of prompts, one per response."""
    rm.check_tokenizer(tokenizer)
    prompts = list(prompt) if isinstance(prompt, (list, tuple)) else [prompt] * len(responses)
    if len(prompts) != len(responses):
        raise ValueError(f"{len(prompts)} prompts for {len(responses)} responses: give one prompt, or one per response")
    block = rm.gpt.config.block_size
    sequences = [encode_response(tokenizer, p, r, block) for p, r in zip(prompts, responses)]
    device = next(rm.parameters()).device
    scores = []
    for start in range(0, len(sequences), batch_size):
        idx, lengths = reward_batch(sequences[start : start + batch_size])
        scores += rm(idx.to(device), lengths.to(device)).tolist()
    return scores


def gold_pairs(labeler, prompt, responses):
    """(a, b) for every two responses that the labeler's gold score puts a above b; the pairs it ties are left out."""
    gold = [labeler.gold_score(prompt, r) for r in responses]
    return [(a, b) for a in range(len(gold)) for b in range(len(gold)) if gold[a] > gold[b]]


def labeler_agreement(comparisons, gold):
    """The share of the pairs that gold does not score equal on which each comparison's ranking agrees with it: how
    often a (noisy) labeler's rankings say what the noiseless labeler says, the ceiling its noise sets on a reward
    model's accuracy against those rankings."""
    agree = total = 0
    for c in comparisons:
        place = {response: n for n, response in enumerate(c.ranking)}
        pairs = gold_pairs(gold, c.prompt, c.responses)
        agree += sum(place[a] < place[b] for a, b in pairs)
        total += len(pairs)
    return agree / max(total, 1)


def pairwise_accuracy(rm, tokenizer, comparisons, labeler=None):
    """The share of pairs that the reward model orders as the judge does. The judge is each comparison's own
    ranking, or, given a labeler, its gold scores: then only the pairs it does not score equal count."""
    rm_was_training = rm.training
    rm.eval()
    agree = total = 0
    for c in comparisons:
        s = score_responses(rm, tokenizer, c.prompt, c.responses)
        pairs = ranking_pairs(c.ranking) if labeler is None else gold_pairs(labeler, c.prompt, c.responses)
        agree += sum(s[w] > s[l] for w, l in pairs)
        total += len(pairs)
    rm.train(rm_was_training)
    return agree / max(total, 1)


def train_reward_model(rm, tokenizer, comparisons, *, epochs=1, learning_rate=1e-3, batch_size=32, grouped=True,
                       seed=0, on_eval=None, evals_per_epoch=1, progress=True):
    """Train rm on comparisons["train"] (Comparisons) by the K-wise ranking loss; comparisons["validation"] gives
    the validation loss. An epoch passes over every comparison once: batch_size prompts per step when grouped,
    else batch_size separate pairs. Cosine decay to a tenth of the learning rate. on_eval(trainer) runs at every
    evaluation (a dict of numbers it returns joins the log line). Returns the Trainer; rm is left in eval mode."""
    rm.check_tokenizer(tokenizer)
    data = RewardData(comparisons["train"], comparisons["validation"], tokenizer, rm.gpt.config.block_size,
                      batch_size=batch_size, grouped=grouped)
    steps_per_epoch = max(1, len(data.splits["train"]) // batch_size)
    max_iters = max(1, round(epochs * steps_per_epoch))
    config = TrainConfig(max_iters=max_iters, learning_rate=learning_rate, min_lr=learning_rate / 10,
                         warmup_iters=min(10, max_iters // 10), eval_interval=max(1, steps_per_epoch // evals_per_epoch),
                         eval_iters=4, seed=seed, progress=progress)
    trainer = Trainer(rm, data, config, loss_fn=reward_loss, on_eval=on_eval)
    trainer.run()
    rm.eval()
    return trainer
