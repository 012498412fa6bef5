import math

import pytest
import torch
import torch.nn.functional as F

from minigpt import GPT, GPTConfig, KVCache, attention_maps, causal_attention, induction_scores, sample_next_token


def tiny(**overrides):
    torch.manual_seed(0)
    config = dict(vocab_size=50, block_size=32, n_layer=2, n_head=4, n_embd=32)
    config.update(overrides)
    return GPT(GPTConfig(**config)).eval()


@pytest.mark.parametrize("pre_ln", [True, False])
def test_kv_cache_matches_full_forward(pre_ln):
    model = tiny(pre_ln=pre_ln)
    idx = torch.randint(0, 50, (3, 30))
    full, _ = model(idx)
    cache = KVCache(model.config, batch_size=3)
    pieces = [model(idx[:, a:b], cache=cache)[0] for a, b in [(0, 11), (11, 12), (12, 20), (20, 30)]]
    torch.testing.assert_close(torch.cat(pieces, dim=1), full, atol=1e-5, rtol=1e-5)


def test_cached_generation_equals_full_recompute_within_context():
    model = tiny()
    prompt = torch.randint(0, 50, (2, 5))
    cached = model.generate(prompt, 25, temperature=0)
    full = model.generate(prompt, 25, temperature=0, use_cache=False)
    assert torch.equal(cached, full)
    assert cached.shape == (2, 30)


def test_generation_continues_past_the_context_window():
    model = tiny()
    out = model.generate(torch.zeros(1, 1, dtype=torch.long), 3 * model.config.block_size, temperature=1.0,
                         generator=torch.Generator().manual_seed(0))
    assert out.shape == (1, 1 + 3 * model.config.block_size)
    assert out.requires_grad is False and not out.is_inference()  # usable later for PPO's backward pass


def test_generation_is_reproducible_with_a_generator():
    model = tiny()
    prompt = torch.zeros(2, 1, dtype=torch.long)
    a = model.generate(prompt, 20, generator=torch.Generator().manual_seed(3))
    b = model.generate(prompt, 20, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


def test_causal_attention_matches_fused_kernel():
    q, k, v = torch.randn(3, 2, 4, 10, 8).unbind(0)
    torch.testing.assert_close(causal_attention(q, k, v), F.scaled_dot_product_attention(q, k, v, is_causal=True))


def test_model_is_causal():
    model = tiny()
    idx = torch.randint(0, 50, (1, 20))
    changed = idx.clone()
    changed[0, 12:] = (changed[0, 12:] + 1) % 50  # change only the future of position 11
    a, _ = model(idx)
    b, _ = model(changed)
    torch.testing.assert_close(a[:, :12], b[:, :12])
    assert not torch.allclose(a[:, 12:], b[:, 12:])


def test_loss_is_mean_negative_log_likelihood_and_skips_ignored_targets():
    model = tiny()
    idx = torch.randint(0, 50, (2, 8))
    targets = torch.randint(0, 50, (2, 8))
    targets[:, :3] = -100
    logits, loss = model(idx, targets)
    logp = torch.log_softmax(logits, dim=-1)
    by_hand = -torch.stack([logp[b, t, targets[b, t]] for b in range(2) for t in range(3, 8)]).mean()
    torch.testing.assert_close(loss, by_hand)


def test_gpt2_parameter_names_and_tied_embedding():
    names = set(tiny().state_dict())
    for name in ["transformer.wte.weight", "transformer.wpe.weight", "transformer.h.0.ln_1.weight",
                 "transformer.h.0.attn.c_attn.weight", "transformer.h.0.attn.c_proj.bias",
                 "transformer.h.1.mlp.c_fc.weight", "transformer.h.1.mlp.c_proj.weight",
                 "transformer.h.1.ln_2.bias", "transformer.ln_f.weight", "lm_head.weight"]:
        assert name in names, name
    model = tiny()
    assert model.lm_head.weight is model.transformer.wte.weight


def test_residual_projections_get_scaled_init():
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=50, block_size=16, n_layer=8, n_head=4, n_embd=256))
    expected = 0.02 / math.sqrt(2 * 8)
    assert model.transformer.h[0].mlp.c_proj.weight.std().item() == pytest.approx(expected, rel=0.05)
    assert model.transformer.h[0].mlp.c_fc.weight.std().item() == pytest.approx(0.02, rel=0.05)
    plain = GPT(GPTConfig(vocab_size=50, block_size=16, n_layer=8, n_head=4, n_embd=256, scaled_init=False))
    assert plain.transformer.h[0].mlp.c_proj.weight.std().item() == pytest.approx(0.02, rel=0.05)


def test_post_ln_has_no_final_layer_norm():
    assert isinstance(tiny(pre_ln=False).transformer.ln_f, torch.nn.Identity)


@pytest.mark.parametrize("overrides, message", [
    (dict(n_embd=100, n_head=3), "n_embd=100 is not divisible by n_head=3"),
    (dict(n_layer=0), "n_layer=0 must be a positive integer"),
    (dict(vocab_size=2.5), "vocab_size=2.5"),
    (dict(dropout=1.5), "dropout=1.5"),
    (dict(activation="relu"), "activation='relu'"),
])
def test_bad_config_gets_a_clear_error(overrides, message):
    config = dict(vocab_size=50, block_size=32, n_layer=2, n_head=4, n_embd=32)
    config.update(overrides)
    with pytest.raises(ValueError, match=message):
        GPTConfig(**config)


def test_prompt_longer_than_context_gets_a_clear_error():
    model = tiny()
    with pytest.raises(ValueError, match="sequence has 40 tokens but block_size is 32"):
        model.generate(torch.zeros(1, 40, dtype=torch.long), 5)
    with pytest.raises(ValueError, match="block_size is 32"):
        model(torch.zeros(1, 33, dtype=torch.long))


def test_bad_token_ids_get_a_clear_error():
    model = tiny()
    with pytest.raises(ValueError, match="token id 50 is out of range for vocab_size=50"):
        model(torch.tensor([[1, 2, 50]]))
    with pytest.raises(ValueError, match=r"\(batch, time\) torch.long"):
        model(torch.tensor([1.0, 2.0]))


def test_sampling_filters():
    logits = torch.tensor([[1.0, 3.0, 2.0, 0.0]])
    assert sample_next_token(logits, temperature=0).item() == 1
    draws = {sample_next_token(logits, top_k=2, generator=torch.Generator().manual_seed(s)).item() for s in range(200)}
    assert draws == {1, 2}
    draws = {sample_next_token(logits, top_p=0.5, generator=torch.Generator().manual_seed(s)).item() for s in range(50)}
    assert draws == {1}  # the top token alone already holds more than half the mass
    draws = {sample_next_token(logits, generator=torch.Generator().manual_seed(s)).item() for s in range(300)}
    assert draws == {0, 1, 2, 3}
    with pytest.raises(ValueError, match="temperature"):
        sample_next_token(logits, temperature=-1)


def test_attention_maps_are_causal_and_reproduce_each_layers_output():
    from minigpt.model import attention_maps

    model = tiny()
    idx = torch.randint(0, 50, (2, 12))
    maps = attention_maps(model, idx)
    assert len(maps) == 2 and maps[0].shape == (2, 4, 12, 12)
    for weights in maps:
        torch.testing.assert_close(weights.sum(-1), torch.ones(2, 4, 12))
        assert torch.all(weights.triu(diagonal=1) == 0)
    # the weights times the values, through c_proj, give what the layer computed
    outputs = []
    model.transformer.h[1].attn.register_forward_hook(lambda m, args, out: outputs.append((args[0], out)))
    model(idx)
    x, out = outputs[0]
    attn = model.transformer.h[1].attn
    _, _, v = attn.qkv(x)
    y = (maps[1] @ v).transpose(1, 2).reshape(2, 12, 32)
    torch.testing.assert_close(attn.c_proj(y), out, atol=1e-5, rtol=1e-5)


def test_induction_scores_recognise_an_induction_head_and_nothing_else():
    T, period = 12, 5
    induction = torch.zeros(T, T)
    previous_token = torch.zeros(T, T)
    uniform = torch.tril(torch.ones(T, T)) / torch.arange(1, T + 1)[:, None]
    for t in range(T):
        previous_token[t, max(t - 1, 0)] = 1.0
        induction[t, t - period + 1 if t >= period else 0] = 1.0
    heads = torch.stack([induction, previous_token, uniform])[None]  # (1, 3 heads, T, T)
    scores = induction_scores(heads, period)
    assert scores.shape == (1, 3)
    assert scores[0, 0] == 1.0 and scores[0, 1] == 0.0
    expected_uniform = sum(1 / (t + 1) for t in range(period, T)) / (T - period)
    assert scores[0, 2].item() == pytest.approx(expected_uniform)
    with pytest.raises(ValueError, match="period"):
        induction_scores(heads, T)


def test_induction_scores_read_the_attention_maps_of_an_untrained_model_as_no_induction():
    """Attention maps of a real model go through induction_scores with the (B, heads, T, T) layout."""
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=50, block_size=32, n_layer=2, n_head=2, n_embd=32))
    block = torch.randint(0, 50, (3, 10))
    maps = attention_maps(model, torch.cat([block, block], dim=1))
    scores = torch.stack([induction_scores(a, 10).mean(0) for a in maps])  # (layers, heads)
    assert scores.shape == (2, 2) and bool(((scores > 0) & (scores < 0.5)).all())  # untrained: no induction head


def test_generation_stops_once_every_row_has_written_the_stop_token():
    model = tiny()
    prompt = torch.zeros(3, 1, dtype=torch.long)
    full = model.generate(prompt, 25, generator=torch.Generator().manual_seed(1))
    stop = int(full[0, 3])  # a token that row 0 writes at its third step
    written = full[:, 1:]
    ends = [(row == stop).nonzero()[0].item() + 1 if (row == stop).any() else 25 for row in written]
    stopped = model.generate(prompt, 25, generator=torch.Generator().manual_seed(1), stop_token=stop)
    assert stopped.size(1) == 1 + max(ends)  # as soon as the last row has written it (or at max_new_tokens)
    assert torch.equal(stopped, full[:, : stopped.size(1)])  # the same tokens as without stopping
