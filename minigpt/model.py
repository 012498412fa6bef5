"""A GPT in one file: configuration, attention with a KV cache, MLP, block, model, generation.

The parameter names follow GPT-2's (``transformer.wte``, ``h.0.ln_1``, ``attn.c_attn``,
``mlp.c_proj``, ``ln_f``, ``lm_head``) so that loading OpenAI's weights is a rename table,
not a puzzle (pretrained.py: ``load_gpt2(path)``). ``GPTConfig(pre_ln=False)`` gives GPT-1's post-LayerNorm block instead.

Shapes: B batch, T time (tokens), C channels (n_embd), nh heads, hs head size (C // nh).
"""
import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

IGNORE_INDEX = -100  # targets equal to this are left out of the loss (padding, prompt tokens in SFT)


@dataclass
class GPTConfig:
    vocab_size: int = 65
    block_size: int = 64  # the context window k: the most tokens the model sees at once
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    bias: bool = True  # biases in Linear layers and LayerNorms, as in GPT-2
    pre_ln: bool = True  # GPT-2: LayerNorm before each sub-layer, plus a final one. False: GPT-1's post-LN
    scaled_init: bool = True  # GPT-2: residual projections initialised with std 0.02 / sqrt(2 * n_layer)
    tie_weights: bool = True  # the unembedding lm_head shares its matrix with the token embedding wte
    # The tanh approximation of GELU that GPT-1 and GPT-2 used ("gelu_tanh", needed to reproduce OpenAI's
    # GPT-2 exactly), or the exact erf form ("gelu"); they differ by less than 1e-3. On a CPU the exact form
    # is faster on training-sized tensors and slower on generation's one-token steps.
    activation: str = "gelu_tanh"
    layer_norm_epsilon: float = 1e-5

    def __post_init__(self):
        for name in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"GPTConfig: {name}={value!r} must be a positive integer")
        if self.n_embd % self.n_head != 0:
            raise ValueError(
                f"GPTConfig: n_embd={self.n_embd} is not divisible by n_head={self.n_head}; "
                f"each head gets n_embd // n_head channels, so pick e.g. n_head="
                f"{_divisors_near(self.n_embd, self.n_head)}"
            )
        if self.activation not in ("gelu", "gelu_tanh"):
            raise ValueError(f'GPTConfig: activation={self.activation!r} must be "gelu" or "gelu_tanh"')
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"GPTConfig: dropout={self.dropout} must be in [0, 1)")

    def to_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, d):
        unknown = set(d) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"GPTConfig: unknown field(s) {sorted(unknown)}")
        return cls(**d)


def _divisors_near(n, k):
    """The divisors of n closest to k, as a hint in an error message."""
    divisors = [d for d in range(1, n + 1) if n % d == 0]
    return " or ".join(str(d) for d in sorted(divisors, key=lambda d: abs(d - k))[:2])


def causal_attention(q, k, v):
    """Causal scaled dot-product attention, written out (Vaswani et al. 2017, eq. 1).

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k) + M) V, where M is -inf above the
    diagonal so that position t only attends to positions <= t.
    q, k, v: (B, nh, T, hs) -> (B, nh, T, hs)
    The model computes the same thing with the fused ``F.scaled_dot_product_attention``.
    """
    return causal_attention_weights(q, k) @ v  # (B, nh, T, T) @ (B, nh, T, hs) -> (B, nh, T, hs)


def causal_attention_weights(q, k):
    """softmax(Q K^T / sqrt(d_k) + M): (B, nh, T, hs) queries and keys -> (B, nh, T, T) weights."""
    T, hs = q.size(-2), q.size(-1)
    scores = q @ k.transpose(-2, -1) / math.sqrt(hs)  # (B, nh, T, hs) @ (B, nh, hs, T) -> (B, nh, T, T)
    mask = torch.ones(T, T, dtype=torch.bool, device=q.device).tril()
    scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-1)  # each row (a query) sums to 1 over the keys


class KVCache:
    """The keys and values of every token seen so far, for each layer.

    Generation feeds one new token per step; its query attends to the cached keys and values
    of all earlier tokens, so nothing before it is recomputed. The buffers are allocated once
    at full context length and filled in place.
    """

    def __init__(self, config, batch_size, device=None, dtype=torch.float32):
        hs = config.n_embd // config.n_head
        shape = (batch_size, config.n_head, config.block_size, hs)
        self.k = [torch.zeros(shape, device=device, dtype=dtype) for _ in range(config.n_layer)]
        self.v = [torch.zeros(shape, device=device, dtype=dtype) for _ in range(config.n_layer)]
        self.length = 0  # how many positions are filled
        self.capacity = config.block_size


class CausalSelfAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.n_head = config.n_head
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)  # q, k, v in one matmul
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.c_proj.residual_projection = True  # gets GPT-2's scaled init
        self.dropout = config.dropout

    def qkv(self, x):
        """(B, T, C) -> queries, keys, values, each (B, nh, T, hs)."""
        B, T, C = x.size()
        qkv = self.c_attn(x).view(B, T, 3, self.n_head, C // self.n_head)  # (B, T, 3C) -> (B, T, 3, nh, hs)
        return qkv.permute(2, 0, 3, 1, 4).unbind(0)  # -> 3 x (B, nh, T, hs)

    def forward(self, x, cache=None, layer=0):
        B, T, C = x.size()
        q, k, v = self.qkv(x)
        past = 0
        if cache is not None:  # write this step's keys/values after the cached ones, attend to all of them
            past = cache.length
            cache.k[layer].narrow(2, past, T).copy_(k)
            cache.v[layer].narrow(2, past, T).copy_(v)
            k, v = cache.k[layer].narrow(2, 0, past + T), cache.v[layer].narrow(2, 0, past + T)
        dropout = self.dropout if self.training else 0.0
        if past == 0:  # the usual causal mask over T x T
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout, is_causal=True)
        elif T == 1:  # one new token may attend to everything cached
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout)
        else:  # a chunk after a cached prefix: query i sees the prefix and chunk tokens <= i
            mask = torch.ones(T, past + T, dtype=torch.bool, device=x.device).tril(diagonal=past)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # (B, nh, T, hs) -> (B, T, C): heads side by side
        return F.dropout(self.c_proj(y), self.dropout, self.training)


class MLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU(approximate="tanh" if config.activation == "gelu_tanh" else "none")
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.c_proj.residual_projection = True
        self.dropout = config.dropout

    def forward(self, x):
        return F.dropout(self.c_proj(self.gelu(self.c_fc(x))), self.dropout, self.training)


class Block(nn.Module):
    """A transformer block: attention, then MLP, each with a residual connection.

    GPT-2 (pre-LN):  x = x + attn(ln_1(x));  x = x + mlp(ln_2(x))
    GPT-1 (post-LN): x = ln_1(x + attn(x));  x = ln_2(x + mlp(x))
    """

    def __init__(self, config):
        super().__init__()
        self.pre_ln = config.pre_ln
        self.ln_1 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x, cache=None, layer=0):
        if self.pre_ln:
            x = x + self.attn(self.ln_1(x), cache, layer)
            return x + self.mlp(self.ln_2(x))
        x = self.ln_1(x + self.attn(x, cache, layer))
        return self.ln_2(x + self.mlp(x))


class GPT(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(
            dict(
                wte=nn.Embedding(config.vocab_size, config.n_embd),  # token embedding
                wpe=nn.Embedding(config.block_size, config.n_embd),  # learned position embedding
                h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
                # GPT-2 adds a LayerNorm after the last block; GPT-1's post-LN blocks end normalised already
                ln_f=nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon, bias=config.bias)
                if config.pre_ln
                else nn.Identity(),
            )
        )
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)  # the unembedding
        if config.tie_weights:
            self.lm_head.weight = self.transformer.wte.weight
        self.apply(self._init_weights)

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            std = 0.02
            if self.config.scaled_init and getattr(module, "residual_projection", False):
                std = 0.02 / math.sqrt(2 * self.config.n_layer)  # 2 residual additions per block
            nn.init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    # A model folder (cache.py) stores this as its config.json, and builds the model back from it.
    def folder_config(self):
        return self.config.to_dict()

    @classmethod
    def from_folder_config(cls, config):
        if "kind" in config:
            raise ValueError(f"config.json describes a {config['kind']}, not a GPT: load it with its own class")
        return cls(GPTConfig.from_dict(config))

    def _check_input(self, idx, cache=None):
        if not isinstance(idx, torch.Tensor) or idx.dtype != torch.long or idx.dim() != 2:
            got = f"{type(idx).__name__} {getattr(idx, 'dtype', '')} {tuple(getattr(idx, 'shape', ()))}"
            raise ValueError(f"GPT expects token ids as a (batch, time) torch.long tensor, got {got}")
        B, T = idx.shape
        past = cache.length if cache is not None else 0
        if past + T > self.config.block_size:
            raise ValueError(
                f"sequence has {past + T} tokens but block_size is {self.config.block_size}; "
                f"crop it to the last {self.config.block_size} tokens (idx[:, -{self.config.block_size}:])"
            )
        if T == 0:
            raise ValueError("GPT got an empty sequence (time dimension 0); give it at least one token")
        lo, hi = int(idx.min()), int(idx.max())
        if lo < 0 or hi >= self.config.vocab_size:
            bad = lo if lo < 0 else hi
            raise ValueError(
                f"token id {bad} is out of range for vocab_size={self.config.vocab_size}; "
                "was the text encoded with a different tokenizer than the model was built for?"
            )

    def hidden_states(self, idx, cache=None):
        """The final hidden state of every position: (B, T) token ids -> (B, T, C).

        The language-model head reads these; a reward model or a value head can read them too.
        """
        self._check_input(idx, cache)
        return self._hidden_states(idx, cache)

    def _hidden_states(self, idx, cache):
        B, T = idx.shape
        past = cache.length if cache is not None else 0
        pos = torch.arange(past, past + T, dtype=torch.long, device=idx.device)  # (T,)
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)  # (B, T, C)
        x = F.dropout(x, self.config.dropout, self.training)
        for layer, block in enumerate(self.transformer.h):
            x = block(x, cache, layer)
        if cache is not None:
            cache.length += T
        return self.transformer.ln_f(x)

    def forward(self, idx, targets=None, cache=None):
        """(B, T) token ids -> logits (B, T, vocab_size) and, given targets (B, T), the mean
        next-token cross-entropy loss, -1/N sum_i log P(u_i | u_<i) (targets of -100 are skipped)."""
        x = self.hidden_states(idx, cache)
        logits = self.lm_head(x)
        if targets is None:
            return logits, None
        if targets.shape != idx.shape:
            raise ValueError(f"targets have shape {tuple(targets.shape)} but idx has {tuple(idx.shape)}")
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1), ignore_index=IGNORE_INDEX)
        return logits, loss

    def generate(self, idx, max_new_tokens, *, temperature=1.0, top_k=None, top_p=None, use_cache=True,
                 generator=None, stop_token=None, on_token=None):
        """Append max_new_tokens sampled tokens to idx (B, T) and return (B, T + max_new_tokens).

        temperature=0 picks the most likely token (greedy). top_k keeps the k most likely tokens,
        top_p the smallest set whose probability reaches p (nucleus sampling).
        With use_cache (the default) each step feeds only the newest token through the model and
        reuses the cached keys and values. Once the context is full, the cache is rebuilt from the
        last block_size // 2 tokens (without it, each step recomputes the last block_size tokens).
        stop_token: an id (the chat's end-of-turn); generation stops early once every row has written it, so
        the result may be shorter, and a row holds whatever it sampled after its own stop token. The tokens
        before the stop are the same as without it.
        on_token(ids): called after each step with its new tokens, (B,), so that a reply can be shown as it is written.
        """
        if max_new_tokens < 0:
            raise ValueError(f"max_new_tokens={max_new_tokens} must be >= 0")
        self._check_input(idx)
        was_training = self.training
        self.eval()
        with torch.inference_mode():  # no autograd bookkeeping at all: faster than no_grad for small steps
            idx = self._generate(idx, max_new_tokens, temperature=temperature, top_k=top_k, top_p=top_p,
                                 use_cache=use_cache, generator=generator, stop_token=stop_token, on_token=on_token)
        self.train(was_training)
        return idx.clone()  # a normal tensor again, usable as input to a later backward pass (PPO)

    def _generate(self, idx, max_new_tokens, *, temperature, top_k, top_p, use_cache, generator, stop_token=None,
                  on_token=None):
        cache, step_input = None, idx
        stopped = torch.zeros(idx.size(0), dtype=torch.bool, device=idx.device)
        for _ in range(max_new_tokens):
            if use_cache:
                if cache is None or cache.length + step_input.size(1) > cache.capacity:
                    keep = self.config.block_size // 2 if cache is not None else self.config.block_size
                    cache = KVCache(self.config, idx.size(0), idx.device, self.transformer.wte.weight.dtype)
                    step_input = idx[:, -keep:]
                x = self._hidden_states(step_input, cache)  # the prompt was checked; sampled ids are valid
            else:
                x = self._hidden_states(idx[:, -self.config.block_size :], None)
            logits = self.lm_head(x[:, -1, :])  # only the last position's prediction is needed: (B, vocab_size)
            next_token = sample_next_token(logits, temperature=temperature, top_k=top_k, top_p=top_p,
                                           generator=generator)  # (B, 1)
            idx = torch.cat((idx, next_token), dim=1)
            step_input = next_token
            if on_token is not None:
                on_token(next_token[:, 0])
            if stop_token is not None:
                stopped |= next_token[:, 0] == stop_token
                if stopped.all():
                    break
        return idx


def parameter_count(model, embeddings=True):
    """The number of parameters of a model (a GPT, or a model built on one), each tensor once: the unembedding
    tied to the token embedding counts once. embeddings=False leaves out a GPT's token and position embeddings
    (and with them the tied unembedding): Kaplan et al.'s non-embedding N, the count of the scaling laws."""
    params = {id(p): p for p in model.parameters()}
    if not embeddings:
        gpt = getattr(model, "gpt", model)
        for p in (gpt.transformer.wte.weight, gpt.transformer.wpe.weight, gpt.lm_head.weight):
            params.pop(id(p), None)
    return sum(p.numel() for p in params.values())


def set_dropout(model, p):
    """Set the residual and attention dropout of every layer of a GPT to p (InstructGPT's SFT used 0.2)."""
    model.config.dropout = p
    for module in model.modules():
        if hasattr(module, "dropout") and isinstance(module.dropout, float):
            module.dropout = p
    return model


def sample_next_token(logits, *, temperature=1.0, top_k=None, top_p=None, generator=None):
    """One sampling step: last-position logits (B, vocab_size) -> next token ids (B, 1)."""
    if temperature < 0:
        raise ValueError(f"temperature={temperature} must be >= 0 (0 means greedy)")
    if temperature == 0:
        return logits.argmax(dim=-1, keepdim=True)
    logits = logits / temperature
    if top_k is not None:
        if top_k < 1:
            raise ValueError(f"top_k={top_k} must be >= 1")
        kth_largest = torch.topk(logits, min(top_k, logits.size(-1))).values[:, [-1]]  # (B, 1)
        logits = logits.masked_fill(logits < kth_largest, float("-inf"))
    if top_p is not None:
        if not 0.0 < top_p <= 1.0:
            raise ValueError(f"top_p={top_p} must be in (0, 1]")
        sorted_logits, order = torch.sort(logits, descending=True)
        cumulative = torch.softmax(sorted_logits, dim=-1).cumsum(dim=-1)
        drop = cumulative - torch.softmax(sorted_logits, dim=-1) >= top_p  # mass before this token already >= p
        sorted_logits = sorted_logits.masked_fill(drop, float("-inf"))
        logits = torch.full_like(logits, float("-inf")).scatter(-1, order, sorted_logits)
    probs = torch.softmax(logits, dim=-1)
    return torch.multinomial(probs, num_samples=1, generator=generator)


@torch.no_grad()
def attention_maps(model, idx):
    """Every layer's attention weights for idx (B, T): a list with one (B, nh, T, T) tensor per layer.

    The model's fused attention kernel never materialises the weights, so each attention layer's
    input is captured with a forward hook and its weights recomputed with causal_attention_weights.
    """
    inputs = []
    hooks = [block.attn.register_forward_pre_hook(lambda module, args: inputs.append(args[0]))
             for block in model.transformer.h]
    try:
        model(idx)
    finally:
        for hook in hooks:
            hook.remove()
    maps = []
    for block, x in zip(model.transformer.h, inputs):
        q, k, _ = block.attn.qkv(x)
        maps.append(causal_attention_weights(q, k))
    return maps


def induction_scores(attention, period):
    """How much each head acts as an induction head, from its attention on a repeated sequence.

    attention: (..., T, T) weights for a sequence whose tokens repeat with this period (a random block
    of `period` tokens, then the same block again). At a position t in a repeat, the token t - period
    is the same token, seen before; an induction head looks at what came NEXT that time, position
    t - period + 1, so that it can predict (copy) it. The score is the mean attention weight on that
    position over every t >= period: 1 for a perfect induction head, about 1/t for uniform attention.
    Returns (...,): one score per head.
    """
    T = attention.shape[-1]
    if not 1 <= period < T:
        raise ValueError(f"period={period} must be between 1 and {T - 1} (the sequence has {T} tokens)")
    t = torch.arange(period, T)
    return attention[..., t, t - period + 1].mean(-1)
