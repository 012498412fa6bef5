"""The exercise checkers: right answers pass, stubs say "not implemented yet", and each known
mistake, written here independently of minigpt.checks, is diagnosed in a student's terms."""
import math

import pytest
import torch

import torch.nn.functional as F

from minigpt.checks import (
    check_auxiliary_loss,
    check_causal_self_attention,
    check_entailment_input,
    check_merge_heads,
    check_next_token_loss,
    check_sample_next_token,
    check_split_heads,
)


def attention(q, k, v, scale=None, mask="causal", fill=float("-inf"), dim=-1, mask_after_softmax=False):
    """Plain attention written out, with switches for the mistakes under test."""
    T, hs = q.shape[-2], q.shape[-1]
    scores = torch.matmul(q, k.transpose(-1, -2)) * (1 / math.sqrt(hs) if scale is None else scale(hs))
    allowed = {
        "causal": torch.tril(torch.ones(T, T)).bool(),  # key s <= query t
        "none": torch.ones(T, T).bool(),
        "future": torch.triu(torch.ones(T, T)).bool(),  # key s >= query t
    }[mask]
    if mask_after_softmax:
        return (torch.softmax(scores, dim=dim) * allowed) @ v
    return torch.softmax(scores.masked_fill(~allowed, fill), dim=dim) @ v


def diagnosis(check, fn):
    """The AssertionError message a checker gives for fn."""
    with pytest.raises(AssertionError) as info:
        check(fn)
    return str(info.value)


def test_correct_attention_passes(capsys):
    assert check_causal_self_attention(attention) is True
    assert "correct" in capsys.readouterr().out


def test_fused_pytorch_attention_passes():
    fused = lambda q, k, v: torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)  # noqa: E731
    assert check_causal_self_attention(fused) is True


def test_stub_reports_not_implemented_without_raising(capsys):
    def stub(q, k, v):
        # YOUR CODE HERE
        raise NotImplementedError()

    assert check_causal_self_attention(stub) is False
    assert "causal_self_attention: not implemented yet" in capsys.readouterr().out


def test_missing_causal_mask_is_diagnosed():
    message = diagnosis(check_causal_self_attention, lambda q, k, v: attention(q, k, v, mask="none"))
    assert "no causal mask" in message and "position 0" in message


def test_missing_scaling_is_diagnosed():
    message = diagnosis(check_causal_self_attention, lambda q, k, v: attention(q, k, v, scale=lambda hs: 1.0))
    assert "does not scale" in message and "sqrt" in message


def test_dividing_by_head_size_instead_of_its_square_root_is_diagnosed():
    message = diagnosis(check_causal_self_attention, lambda q, k, v: attention(q, k, v, scale=lambda hs: 1 / hs))
    assert "square root" in message


def test_softmax_over_the_query_axis_is_diagnosed():
    message = diagnosis(check_causal_self_attention, lambda q, k, v: attention(q, k, v, dim=-2))
    assert "wrong axis" in message and "dim=-1" in message


def test_softmax_over_the_head_axis_is_diagnosed():
    message = diagnosis(check_causal_self_attention, lambda q, k, v: attention(q, k, v, dim=1))
    assert "wrong axis" in message


def test_masking_after_the_softmax_is_diagnosed():
    message = diagnosis(check_causal_self_attention, lambda q, k, v: attention(q, k, v, mask_after_softmax=True))
    assert "after the softmax" in message


def test_mask_on_the_future_triangle_is_diagnosed():
    message = diagnosis(check_causal_self_attention, lambda q, k, v: attention(q, k, v, mask="future"))
    assert "wrong triangle" in message


def test_inverted_mask_is_diagnosed():
    def inverted(q, k, v):  # masked_fill given the positions to keep instead of those to hide
        T = q.shape[-2]
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
        keep = torch.ones(T, T, dtype=torch.bool).tril()
        return torch.softmax(scores.masked_fill(keep, float("-inf")), dim=-1) @ v

    assert "inverted" in diagnosis(check_causal_self_attention, inverted)


def test_masking_with_zero_instead_of_minus_infinity_is_diagnosed():
    message = diagnosis(check_causal_self_attention, lambda q, k, v: attention(q, k, v, fill=0.0))
    assert "-inf" in message and "instead of" in message


def test_returning_the_attention_weights_is_diagnosed():
    def weights_only(q, k, v):
        T = q.shape[-2]
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
        return torch.softmax(scores.masked_fill(torch.ones(T, T).triu(1).bool(), float("-inf")), dim=-1)

    assert "attention weights" in diagnosis(check_causal_self_attention, weights_only)


def test_wrong_output_shape_is_reported_with_both_shapes():
    message = diagnosis(check_causal_self_attention, lambda q, k, v: attention(q, k, v)[0])
    assert "(3, 5, 4)" in message and "(2, 3, 5, 4)" in message


def test_returning_a_non_tensor_is_reported():
    message = diagnosis(check_causal_self_attention, lambda q, k, v: attention(q, k, v).tolist())
    assert "not a torch.Tensor" in message


def test_forgetting_to_return_is_reported():
    def no_return(q, k, v):
        attention(q, k, v)

    assert "forget the `return`" in diagnosis(check_causal_self_attention, no_return)


def test_exception_in_student_code_names_the_input_shape_and_is_chained():
    def broken(q, k, v):
        return q @ v  # (T, hs) @ (T, hs) does not line up

    with pytest.raises(AssertionError, match=r"raised RuntimeError on q, k, v of shape \(2, 3, 5, 4\)") as info:
        check_causal_self_attention(broken)
    assert isinstance(info.value.__cause__, RuntimeError)


def test_changing_an_input_in_place_is_reported():
    def scales_q_in_place(q, k, v):
        q /= math.sqrt(q.shape[-1])
        T = q.shape[-2]
        scores = (q @ k.transpose(-2, -1)).masked_fill(torch.ones(T, T).triu(1).bool(), float("-inf"))
        return torch.softmax(scores, dim=-1) @ v

    assert "changed its input q in place" in diagnosis(check_causal_self_attention, scales_q_in_place)


def test_wrong_dtype_is_reported():
    message = diagnosis(check_causal_self_attention, lambda q, k, v: attention(q, k, v).float())
    assert "dtype" in message


def test_unrecognised_mistake_reports_the_difference_and_the_input_shape():
    message = diagnosis(check_causal_self_attention, lambda q, k, v: attention(q, k, v) + 0.01)
    assert "differ from the reference by up to 0.01" in message and "shape (2, 3, 5, 4)" in message


# ---- splitting into heads and merging back ----


def split_heads(x, n_head):
    B, T, C = x.shape
    return x.reshape(B, T, n_head, C // n_head).permute(0, 2, 1, 3)


def merge_heads(y):
    B, nh, T, hs = y.shape
    return y.permute(0, 2, 1, 3).reshape(B, T, nh * hs)


def test_correct_split_and_merge_pass():
    assert check_split_heads(split_heads) is True
    assert check_merge_heads(merge_heads) is True


def test_split_and_merge_stubs_report_not_implemented(capsys):
    def stub(*args):
        raise NotImplementedError()

    assert check_split_heads(stub) is False and check_merge_heads(stub) is False
    out = capsys.readouterr().out
    assert "split_heads: not implemented yet" in out and "merge_heads: not implemented yet" in out


def test_split_by_reshape_without_transpose_is_diagnosed():
    def reshape_only(x, n_head):
        B, T, C = x.shape
        return x.reshape(B, n_head, T, C // n_head)

    assert "without transposing" in diagnosis(check_split_heads, reshape_only)


def test_split_without_moving_the_head_axis_is_diagnosed():
    def heads_after_time(x, n_head):
        B, T, C = x.shape
        return x.reshape(B, T, n_head, C // n_head)

    assert "transpose(1, 2)" in diagnosis(check_split_heads, heads_after_time)


def test_split_with_interleaved_channels_is_diagnosed():
    def interleaved(x, n_head):
        B, T, C = x.shape
        return x.reshape(B, T, C // n_head, n_head).permute(0, 3, 1, 2)

    assert "every nh-th channel" in diagnosis(check_split_heads, interleaved)


def test_merge_by_reshape_without_transpose_is_diagnosed():
    def reshape_only(y):
        B, nh, T, hs = y.shape
        return y.reshape(B, T, nh * hs)

    assert "without transposing" in diagnosis(check_merge_heads, reshape_only)


def test_merge_with_view_after_transpose_gets_a_contiguity_hint():
    def view_after_transpose(y):
        B, nh, T, hs = y.shape
        return y.transpose(1, 2).view(B, T, nh * hs)

    assert "contiguous" in diagnosis(check_merge_heads, view_after_transpose)


# ---- the next-token loss ----


def next_token_loss(logits, tokens, offset=1, prob="log", axis=-1, reduction=torch.mean):
    """-mean log P(tokens[t + offset] | logits[t]), written with log_softmax and gather, with switches for mistakes."""
    T = logits.shape[1]
    if offset >= 0:
        scored, targets = logits[:, : T - offset], tokens[:, offset:]
    else:
        scored, targets = logits[:, -offset:], tokens[:, : T + offset]
    if prob == "log":
        values = F.log_softmax(scored, dim=axis)
    elif prob == "plain":
        values = F.softmax(scored, dim=axis)
    else:
        values = scored
    return -reduction(torch.gather(values, 2, targets[..., None]))


def test_correct_next_token_loss_passes(capsys):
    assert check_next_token_loss(next_token_loss) is True
    assert "next_token_loss: correct" in capsys.readouterr().out


def test_next_token_loss_with_a_python_loop_passes():
    def looped(logits, tokens):
        B, T, V = logits.shape
        total = sum(-torch.log_softmax(logits[b, t], dim=0)[tokens[b, t + 1]] for b in range(B) for t in range(T - 1))
        return total / (B * (T - 1))

    assert check_next_token_loss(looped) is True


def test_next_token_loss_stub_reports_not_implemented(capsys):
    def stub(logits, tokens):
        raise NotImplementedError()

    assert check_next_token_loss(stub) is False
    assert "next_token_loss: not implemented yet" in capsys.readouterr().out


def test_loss_without_the_shift_is_diagnosed():
    assert "no shift" in diagnosis(check_next_token_loss, lambda lg, tk: next_token_loss(lg, tk, offset=0))


def test_loss_shifted_the_wrong_way_is_diagnosed():
    assert "wrong way" in diagnosis(check_next_token_loss, lambda lg, tk: next_token_loss(lg, tk, offset=-1))


def test_summed_loss_is_diagnosed():
    message = diagnosis(check_next_token_loss, lambda lg, tk: next_token_loss(lg, tk, reduction=torch.sum))
    assert "sum" in message and "mean" in message


def test_loss_of_probabilities_instead_of_log_probabilities_is_diagnosed():
    message = diagnosis(check_next_token_loss, lambda lg, tk: next_token_loss(lg, tk, prob="plain"))
    assert "instead of their log-probabilities" in message


def test_loss_with_the_sign_flipped_is_diagnosed():
    message = diagnosis(check_next_token_loss, lambda lg, tk: -next_token_loss(lg, tk))
    assert "mean log-probability" in message and "minus" in message


def test_loss_with_softmax_over_time_is_diagnosed():
    message = diagnosis(check_next_token_loss, lambda lg, tk: next_token_loss(lg, tk, axis=1))
    assert "wrong axis" in message and "dim=-1" in message


def test_loss_of_raw_logits_is_diagnosed():
    message = diagnosis(check_next_token_loss, lambda lg, tk: next_token_loss(lg, tk, prob="raw"))
    assert "raw logits" in message and "log_softmax" in message


def test_cross_entropy_without_flattening_gets_a_hint():
    message = diagnosis(check_next_token_loss, lambda lg, tk: F.cross_entropy(lg[:, :-1], tk[:, 1:]))
    assert "raised RuntimeError" in message and "classes (the vocabulary) on dim 1" in message


def test_view_of_a_sliced_tensor_gets_a_contiguity_hint():
    def with_view(logits, tokens):
        return F.cross_entropy(logits[:, :-1].view(-1, logits.shape[-1]), tokens[:, 1:].view(-1))

    assert "contiguous" in diagnosis(check_next_token_loss, with_view)


# ---- the sampling step ----


def top_k_logits(logits, temperature, top_k, fill=float("-inf")):
    z = logits / temperature
    if top_k is not None:
        smallest_kept = z.sort(dim=-1, descending=True).values[:, top_k - 1 : top_k]  # (B, 1)
        z = torch.where(z >= smallest_kept, z, torch.full_like(z, fill))
    return z


def sample(logits, temperature=1.0, top_k=None, generator=None):
    """The usual way: greedy at temperature 0, otherwise torch.multinomial on the softmax."""
    if temperature == 0:
        return logits.argmax(dim=-1, keepdim=True)
    return torch.multinomial(F.softmax(top_k_logits(logits, temperature, top_k), dim=-1), 1, generator=generator)


def gumbel_max(logits, temperature=1.0, top_k=None, generator=None):
    """argmax(z + Gumbel noise) is a draw from softmax(z)."""
    if temperature == 0:
        return logits.argmax(dim=-1, keepdim=True)
    z = top_k_logits(logits, temperature, top_k)
    u = torch.rand(z.shape, generator=generator, dtype=z.dtype).clamp(1e-12, 1 - 1e-7)
    return (z - torch.log(-torch.log(u))).argmax(dim=-1, keepdim=True)


def inverse_cdf(logits, temperature=1.0, top_k=None, generator=None):
    """The first token whose cumulative probability exceeds a uniform number."""
    if temperature == 0:
        return logits.argmax(dim=-1, keepdim=True)
    cdf = F.softmax(top_k_logits(logits, temperature, top_k), dim=-1).cumsum(dim=-1)  # (B, V)
    u = torch.rand(cdf.shape[0], 1, generator=generator, dtype=cdf.dtype) * cdf[:, -1:]
    return (cdf <= u).sum(dim=-1, keepdim=True).clamp(max=cdf.shape[-1] - 1)


@pytest.mark.parametrize("sampler", [sample, gumbel_max, inverse_cdf], ids=["multinomial", "gumbel-max", "inverse-cdf"])
def test_correct_samplers_pass(sampler, capsys):
    assert check_sample_next_token(sampler) is True
    assert "sample_next_token: correct" in capsys.readouterr().out


def test_sampler_stub_reports_not_implemented(capsys):
    def stub(logits, temperature=1.0, top_k=None, generator=None):
        raise NotImplementedError()

    assert check_sample_next_token(stub) is False
    assert "sample_next_token: not implemented yet" in capsys.readouterr().out


def test_returning_shape_b_instead_of_b_1_is_diagnosed():
    message = diagnosis(check_sample_next_token, lambda lg, temperature=1.0, top_k=None, generator=None:
                        sample(lg, temperature, top_k, generator)[:, 0])
    assert "expected shape is (64, 1)" in message and "keepdim=True" in message


def test_dividing_by_a_zero_temperature_gets_the_greedy_hint():
    def no_greedy(logits, temperature=1.0, top_k=None, generator=None):
        return torch.multinomial(F.softmax(logits / temperature, dim=-1), 1, generator=generator)

    message = diagnosis(check_sample_next_token, no_greedy)
    assert "temperature=0" in message and "greedy" in message


def test_always_taking_the_argmax_is_diagnosed():
    message = diagnosis(check_sample_next_token, lambda lg, temperature=1.0, top_k=None, generator=None:
                        lg.argmax(dim=-1, keepdim=True))
    assert "greedy decoding" in message and "multinomial" in message


def test_multiplying_by_the_temperature_is_diagnosed():
    def multiplied(logits, temperature=1.0, top_k=None, generator=None):
        if temperature == 0:
            return logits.argmax(dim=-1, keepdim=True)
        return sample(logits * temperature * temperature, temperature, top_k, generator)  # net effect: z * T

    assert "multiplies the logits by the temperature" in diagnosis(check_sample_next_token, multiplied)


@pytest.mark.parametrize("after_softmax", [lambda p, t: p / t, lambda p, t: p], ids=["divided", "forgotten"])
def test_temperature_without_effect_is_diagnosed(after_softmax):
    def no_effect(logits, temperature=1.0, top_k=None, generator=None):
        if temperature == 0:
            return logits.argmax(dim=-1, keepdim=True)
        probs = after_softmax(F.softmax(top_k_logits(logits, 1.0, top_k), dim=-1), temperature)
        return torch.multinomial(probs, 1, generator=generator)

    assert "as if the temperature were 1" in diagnosis(check_sample_next_token, no_effect)


def test_ignoring_top_k_is_diagnosed():
    def no_top_k(logits, temperature=1.0, top_k=None, generator=None):
        return sample(logits, temperature, None, generator)

    assert "top-k is not applied" in diagnosis(check_sample_next_token, no_top_k)


def test_keeping_the_k_smallest_logits_is_diagnosed():
    def smallest(logits, temperature=1.0, top_k=None, generator=None):
        if temperature == 0 or top_k is None:
            return sample(logits, temperature, None, generator)
        z = logits / temperature
        biggest_kept = torch.topk(z, top_k, largest=False).values.max(dim=-1, keepdim=True).values
        z = z.masked_fill(z > biggest_kept, float("-inf"))
        return torch.multinomial(F.softmax(z, dim=-1), 1, generator=generator)

    assert "k smallest" in diagnosis(check_sample_next_token, smallest)


def test_mask_filled_with_zero_is_diagnosed():
    def zero_fill(logits, temperature=1.0, top_k=None, generator=None):
        if temperature == 0:
            return logits.argmax(dim=-1, keepdim=True)
        probs = F.softmax(top_k_logits(logits, temperature, top_k, fill=0.0), dim=-1)
        return torch.multinomial(probs, 1, generator=generator)

    message = diagnosis(check_sample_next_token, zero_fill)
    assert "with 0 instead of -inf" in message


def test_keeping_k_minus_one_tokens_is_diagnosed():
    def off_by_one(logits, temperature=1.0, top_k=None, generator=None):
        return sample(logits, temperature, None if top_k is None else top_k - 1, generator)

    assert "k - 1 tokens" in diagnosis(check_sample_next_token, off_by_one)


def test_returning_positions_in_the_top_k_is_diagnosed():
    def positions(logits, temperature=1.0, top_k=None, generator=None):
        if temperature == 0 or top_k is None:
            return sample(logits, temperature, None, generator)
        values = torch.topk(logits / temperature, top_k).values
        return torch.multinomial(F.softmax(values, dim=-1), 1, generator=generator)  # forgot to map back

    assert "instead of token ids" in diagnosis(check_sample_next_token, positions)


def test_softmax_over_the_batch_is_diagnosed():
    def batch_softmax(logits, temperature=1.0, top_k=None, generator=None):
        if temperature == 0:
            return logits.argmax(dim=-1, keepdim=True)
        return torch.multinomial(F.softmax(top_k_logits(logits, temperature, top_k), dim=0), 1, generator=generator)

    assert "wrong axis" in diagnosis(check_sample_next_token, batch_softmax)


def test_top_k_from_the_whole_batch_is_caught_by_the_per_row_check():
    def batch_threshold(logits, temperature=1.0, top_k=None, generator=None):
        if temperature == 0 or top_k is None:
            return sample(logits, temperature, None, generator)
        z = logits / temperature
        kth = torch.topk(z, top_k).values[:, -1].min()  # the lowest row's threshold, used for every row
        return torch.multinomial(F.softmax(z.masked_fill(z < kth, float("-inf")), dim=-1), 1, generator=generator)

    message = diagnosis(check_sample_next_token, batch_threshold)
    assert "outside the 3 largest logits" in message


def test_unrecognised_sampling_mistake_shows_both_distributions():
    def squared_temperature(logits, temperature=1.0, top_k=None, generator=None):
        return sample(logits, temperature**2, top_k, generator)

    message = diagnosis(check_sample_next_token, squared_temperature)
    assert "wrong distribution with temperature=0.5" in message and "total-variation distance" in message


def test_ignoring_the_generator_is_reported():
    def global_rng(logits, temperature=1.0, top_k=None, generator=None):
        return sample(logits, temperature, top_k, None)

    assert "same seed" in diagnosis(check_sample_next_token, global_rng)


def test_changing_the_logits_in_place_is_reported():
    def divides_in_place(logits, temperature=1.0, top_k=None, generator=None):
        if temperature == 0:
            return logits.argmax(dim=-1, keepdim=True)
        logits /= temperature
        return sample(logits, 1.0, top_k, generator)

    assert "changed its input logits in place" in diagnosis(check_sample_next_token, divides_in_place)


# ---- GPT-1 fine-tuning: the entailment input and the auxiliary loss ----


def entailment(premise, hypothesis, start, delim, extract):
    return [start] + list(premise) + [delim] + list(hypothesis) + [extract]


def test_correct_entailment_input_passes(capsys):
    assert check_entailment_input(entailment) is True
    assert "entailment_input: correct" in capsys.readouterr().out


def test_fine_tuning_stubs_report_not_implemented(capsys):
    def stub(*args):
        raise NotImplementedError()

    assert check_entailment_input(stub) is False and check_auxiliary_loss(stub) is False
    out = capsys.readouterr().out
    assert "entailment_input: not implemented yet" in out and "auxiliary_loss: not implemented yet" in out


@pytest.mark.parametrize(
    "wrong, keyword",
    [
        (lambda p, h, s, d, e: list(p) + [d] + list(h) + [e], "<start>"),
        (lambda p, h, s, d, e: [s] + list(p) + list(h) + [e], "<delim>"),
        (lambda p, h, s, d, e: [s] + list(p) + [d] + list(h), "<extract> token at the end"),
        (lambda p, h, s, d, e: [s] + list(h) + [d] + list(p) + [e], "swapped"),
        (lambda p, h, s, d, e: [e, s] + list(p) + [d] + list(h), "<extract> at the front"),
        (lambda p, h, s, d, e: [s, p, d, h, e], "unpack"),
    ],
    ids=["missing-start", "missing-delim", "missing-extract", "swapped", "extract-first", "nested-lists"],
)
def test_entailment_input_mistakes_are_diagnosed(wrong, keyword):
    assert keyword in diagnosis(check_entailment_input, wrong)


def test_changing_the_premise_list_in_place_is_reported():
    def inserts(premise, hypothesis, start, delim, extract):
        premise.insert(0, start)
        return premise + [delim] + hypothesis + [extract]

    assert "changed its input premise_ids in place" in diagnosis(check_entailment_input, inserts)


def test_unrecognised_entailment_input_shows_both_lists():
    message = diagnosis(check_entailment_input, lambda p, h, s, d, e: [s] + list(p) + [d, d] + list(h) + [e])
    assert "returned [0, 11, 12, 13, 1, 1, 21, 22, 2], expected [0, 11, 12, 13, 1, 21, 22, 2]" in message


def test_correct_auxiliary_loss_passes(capsys):
    assert check_auxiliary_loss(lambda task, lm, weight: torch.add(task, lm, alpha=weight)) is True
    assert "auxiliary_loss: correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, keyword",
    [
        (lambda task, lm, w: task * w + lm, "λ on the task loss"),
        (lambda task, lm, w: task - lm * w, "subtracts"),
        (lambda task, lm, w: task + lm, "without the weight"),
        (lambda task, lm, w: lm * w, "forgets the task loss"),
    ],
    ids=["weight-on-task", "minus", "weight-forgotten", "lm-loss-alone"],
)
def test_auxiliary_loss_mistakes_are_diagnosed(wrong, keyword):
    assert keyword in diagnosis(check_auxiliary_loss, wrong)


def test_auxiliary_loss_returned_as_a_float_is_reported():
    assert "not a torch.Tensor" in diagnosis(check_auxiliary_loss, lambda task, lm, w: (task + w * lm).item())


def test_a_row_masked_entirely_gets_a_hint():
    def first_row_threshold(logits, temperature=1.0, top_k=None, generator=None):
        if temperature == 0 or top_k is None:
            return sample(logits, temperature, None, generator)
        z = logits / temperature
        kth = torch.topk(z[0], top_k).values[-1]  # the first row's threshold, used for every row
        return torch.multinomial(F.softmax(z.masked_fill(z < kth, float("-inf")), dim=-1), 1, generator=generator)

    message = diagnosis(check_sample_next_token, first_row_threshold)
    assert "raised RuntimeError" in message and "all -inf" in message
