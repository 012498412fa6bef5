"""The exercise checkers: right answers pass, stubs say "not implemented yet", and each known
mistake, written here independently of minigpt.checks, is diagnosed in a student's terms."""
import math
from collections import Counter

import pytest
import torch
import torch.nn.functional as F

from minigpt import GPT, BPETokenizer, GPTConfig
from minigpt.checks import (
    check_auxiliary_loss,
    check_causal_self_attention,
    check_accuracy_over_shots,
    check_clipped_policy_loss,
    check_dialogue_mask,
    check_continuation_logprob,
    check_entailment_input,
    check_gae,
    check_induction_score,
    check_k_shot_prompt,
    check_kl_penalised_rewards,
    check_merge,
    check_merge_heads,
    check_most_frequent_pair,
    check_next_token_loss,
    check_pre_ln_block,
    check_ranking_loss,
    check_ranking_pairs,
    check_residual_init_std,
    check_fit_line,
    check_sample_next_token,
    check_sft_loss,
    check_split_heads,
    check_text_floor,
)
from minigpt.model import Block


EVERY_CHECKER = [
    (check_causal_self_attention, "causal_self_attention"), (check_split_heads, "split_heads"),
    (check_merge_heads, "merge_heads"), (check_next_token_loss, "next_token_loss"),
    (check_sample_next_token, "sample_next_token"), (check_entailment_input, "entailment_input"),
    (check_auxiliary_loss, "auxiliary_loss"), (check_most_frequent_pair, "most_frequent_pair"), (check_merge, "merge"),
    (check_pre_ln_block, "pre_ln_block"), (check_residual_init_std, "residual_init_std"),
    (check_continuation_logprob, "continuation_logprob"), (check_k_shot_prompt, "k_shot_prompt"),
    (check_accuracy_over_shots, "accuracy_over_shots"), (check_induction_score, "induction_score"),
    (check_sft_loss, "sft_loss"), (check_ranking_pairs, "ranking_pairs"), (check_ranking_loss, "ranking_loss"),
    (check_kl_penalised_rewards, "kl_penalised_rewards"), (check_gae, "gae"),
    (check_clipped_policy_loss, "clipped_policy_loss"), (check_fit_line, "fit_line"),
    (check_dialogue_mask, "encode_dialogue"), (check_text_floor, "text_floor"),
]


@pytest.mark.parametrize("checker, name", EVERY_CHECKER, ids=[name for _, name in EVERY_CHECKER])
def test_an_untouched_stub_reports_not_implemented_without_raising(checker, name, capsys):
    def stub(*args, **kwargs):
        # YOUR CODE HERE
        raise NotImplementedError()

    assert checker(stub) is False
    assert f"{name}: not implemented yet" in capsys.readouterr().out


@pytest.mark.parametrize("checker, name", EVERY_CHECKER, ids=[name for _, name in EVERY_CHECKER])
def test_passing_a_result_instead_of_the_function_is_named(checker, name):
    with pytest.raises(AssertionError, match=rf"pass the function itself \({name}\), not the result of calling it"):
        checker(torch.zeros(3))  # what calling the function might have returned


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


# ---- GPT-2: one BPE merge step ----



def count_pairs(ids, starts=None):
    starts = range(len(ids) - 1) if starts is None else starts
    counts = {}
    for i in starts:
        counts[(ids[i], ids[i + 1])] = counts.get((ids[i], ids[i + 1]), 0) + 1
    return counts


def most_frequent_pair(ids):
    counts = count_pairs(ids)
    best = max(counts.values())
    return min(pair for pair, count in counts.items() if count == best)


def test_correct_most_frequent_pair_passes(capsys):
    assert check_most_frequent_pair(most_frequent_pair) is True
    assert check_most_frequent_pair(lambda ids: max(Counter(zip(ids, ids[1:])).items(),
                                                    key=lambda kv: (kv[1], -kv[0][0], -kv[0][1]))[0]) is True
    assert "most_frequent_pair: correct" in capsys.readouterr().out


def test_the_pair_reference_picks_the_bpe_trainers_first_merge():
    from minigpt.checks.gpt2 import _most_frequent_pair

    for text in ["aaabdaaabac", "hello", "abcabcxyzxyz", "zzyyzzyy"]:  # one chunk each; "hello" is all ties
        tokenizer = BPETokenizer().train(text, 257, special_tokens=())
        assert tokenizer.merges[0] == _most_frequent_pair(list(text.encode("utf-8"))), text


def test_returning_the_count_instead_of_the_pair_is_diagnosed():
    assert "instead of the pair itself" in diagnosis(check_most_frequent_pair,
                                                     lambda ids: max(count_pairs(ids).values()))


def test_skipping_the_last_pair_is_diagnosed():
    def off_by_one(ids):
        counts = count_pairs(ids, range(len(ids) - 2))
        return min(counts, key=lambda p: (-counts[p], p))

    assert "never counts the last pair" in diagnosis(check_most_frequent_pair, off_by_one)


def test_counting_every_other_window_is_diagnosed():
    def step_two(ids):
        counts = count_pairs(ids, range(0, len(ids) - 1, 2))
        return min(counts, key=lambda p: (-counts[p], p))

    assert "two at a time" in diagnosis(check_most_frequent_pair, step_two)


def test_counting_a_run_without_its_overlapping_windows_is_diagnosed():
    def no_overlap(ids):
        counts, i = {}, 0
        while i < len(ids) - 1:
            pair = (ids[i], ids[i + 1])
            counts[pair] = counts.get(pair, 0) + 1
            i += 2 if pair[0] == pair[1] else 1  # a a a: the second window shares its a with the first
        return min(counts, key=lambda p: (-counts[p], p))

    assert "overlapping ones too" in diagnosis(check_most_frequent_pair, no_overlap)


def test_ties_to_the_first_seen_pair_are_diagnosed():
    def first_seen(ids):
        counts = Counter(zip(ids, ids[1:]))
        return max(counts, key=counts.get)

    message = diagnosis(check_most_frequent_pair, first_seen)
    assert "breaks ties" in message and "seen first" in message and "smallest pair" in message


def test_ties_to_the_largest_pair_are_diagnosed():
    def largest(ids):
        counts = Counter(zip(ids, ids[1:]))
        return max(counts, key=lambda p: (counts[p], p))

    assert "taking the largest pair" in diagnosis(check_most_frequent_pair, largest)


def merge(ids, pair, new_id):
    out, i = [], 0
    while i < len(ids):
        if ids[i : i + 2] == list(pair):
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def test_correct_merge_passes(capsys):
    assert check_merge(merge) is True
    assert "merge: correct" in capsys.readouterr().out


def test_merge_advancing_by_one_is_diagnosed():
    def advance_one(ids, pair, new_id):
        out, i = [], 0
        while i < len(ids):
            out.append(new_id if tuple(ids[i : i + 2]) == tuple(pair) else ids[i])
            i += 1
        return out

    assert "i += 2" in diagnosis(check_merge, advance_one)


def test_merge_of_overlapping_occurrences_is_diagnosed():
    def overlapping(ids, pair, new_id):
        hits = [i for i in range(len(ids) - 1) if (ids[i], ids[i + 1]) == tuple(pair)]
        out = []
        for i, token in enumerate(ids):
            if i in hits:
                out.append(new_id)
            elif i - 1 not in hits:
                out.append(token)
        return out  # [a, a, a] -> [new, new]: the middle a is used twice

    assert "merges overlapping occurrences" in diagnosis(check_merge, overlapping)


def test_merge_from_the_right_is_diagnosed():
    def from_the_right(ids, pair, new_id):
        out, i = [], len(ids) - 1
        while i >= 0:
            if i >= 1 and (ids[i - 1], ids[i]) == tuple(pair):
                out.insert(0, new_id)
                i -= 2
            else:
                out.insert(0, ids[i])
                i -= 1
        return out

    assert "right to left" in diagnosis(check_merge, from_the_right)


def test_merge_of_the_first_occurrence_only_is_diagnosed():
    def first_only(ids, pair, new_id):
        for i in range(len(ids) - 1):
            if (ids[i], ids[i + 1]) == tuple(pair):
                return ids[:i] + [new_id] + ids[i + 2 :]
        return list(ids)

    assert "only the first occurrence" in diagnosis(check_merge, first_only)


def test_merge_losing_the_last_token_is_diagnosed():
    def loses_last(ids, pair, new_id):
        out, i = [], 0
        while i < len(ids) - 1:
            if (ids[i], ids[i + 1]) == tuple(pair):
                out.append(new_id)
                i += 2
            else:
                out.append(ids[i])
                i += 1
        return out

    assert "loses the last token" in diagnosis(check_merge, loses_last)


def test_merge_in_place_is_reported():
    def in_place(ids, pair, new_id):
        i = 0
        while i < len(ids) - 1:
            if (ids[i], ids[i + 1]) == tuple(pair):
                ids[i : i + 2] = [new_id]
            i += 1
        return ids

    assert "changed its input ids in place" in diagnosis(check_merge, in_place)


# ---- GPT-2: the pre-LN block and the scaled init ----


def pre_ln(x, attn, mlp, ln_1, ln_2):
    h = x + attn(ln_1(x))
    return h + mlp(ln_2(h))


def test_correct_pre_ln_block_passes(capsys):
    assert check_pre_ln_block(pre_ln) is True
    assert "pre_ln_block: correct" in capsys.readouterr().out


def test_the_block_reference_matches_minigpts_pre_ln_block():
    from minigpt.checks.gpt2 import _pre_ln_block

    torch.manual_seed(0)
    block = Block(GPTConfig(n_embd=16, n_head=2, n_layer=2, block_size=8)).eval()
    x = torch.randn(2, 5, 16)
    with torch.no_grad():
        assert torch.allclose(_pre_ln_block(x, block.attn, block.mlp, ln_1=block.ln_1, ln_2=block.ln_2), block(x),
                              atol=1e-6)


def test_post_ln_block_is_diagnosed():
    def post_ln(x, attn, mlp, ln_1, ln_2):
        h = ln_1(x + attn(x))
        return ln_2(h + mlp(h))

    assert "GPT-1's post-LN block" in diagnosis(check_pre_ln_block, post_ln)


def test_layer_norm_on_the_residual_stream_is_diagnosed():
    def normalised_stream(x, attn, mlp, ln_1, ln_2):
        x = ln_1(x)
        x = x + attn(x)
        x = ln_2(x)
        return x + mlp(x)

    assert "normalises the residual stream itself" in diagnosis(check_pre_ln_block, normalised_stream)


def test_missing_residual_around_attention_is_diagnosed():
    def no_residual(x, attn, mlp, ln_1, ln_2):
        h = attn(ln_1(x))
        return h + mlp(ln_2(h))

    assert "no residual connection around the attention" in diagnosis(check_pre_ln_block, no_residual)


def test_missing_residuals_are_diagnosed():
    message = diagnosis(check_pre_ln_block, lambda x, attn, mlp, ln_1, ln_2: mlp(ln_2(attn(ln_1(x)))))
    assert "no residual connections" in message


def test_using_ln_1_twice_is_diagnosed():
    def same_norm(x, attn, mlp, ln_1, ln_2):
        h = x + attn(ln_1(x))
        return h + mlp(ln_1(h))

    assert "uses ln_1 in front of both" in diagnosis(check_pre_ln_block, same_norm)


def test_mlp_reading_the_block_input_is_diagnosed():
    message = diagnosis(check_pre_ln_block, lambda x, attn, mlp, ln_1, ln_2: x + attn(ln_1(x)) + mlp(ln_2(x)))
    assert "must read the stream after the attention" in message


def test_correct_residual_init_std_passes(capsys):
    assert check_residual_init_std(lambda n_layer, base=0.02: base / math.sqrt(2 * n_layer)) is True
    assert check_residual_init_std(lambda n_layer, base=0.02: base * (2 * n_layer) ** -0.5) is True
    assert check_residual_init_std(lambda n_layer, base=0.02: torch.tensor(base) / torch.tensor(2.0 * n_layer).sqrt())
    assert "residual_init_std: correct" in capsys.readouterr().out


def test_the_init_reference_matches_the_models_initialisation():
    from minigpt.checks.gpt2 import _residual_init_std

    torch.manual_seed(0)
    model = GPT(GPTConfig(n_layer=6, n_head=4, n_embd=256, vocab_size=10, block_size=8))
    for weight in (model.transformer.h[0].mlp.c_proj.weight, model.transformer.h[5].attn.c_proj.weight):
        assert weight.std().item() == pytest.approx(_residual_init_std(6), rel=0.02)


def test_dividing_by_the_root_of_n_layer_is_diagnosed():
    message = diagnosis(check_residual_init_std, lambda n_layer, base=0.02: base / math.sqrt(n_layer))
    assert "divides by sqrt(n_layer)" in message and "two" in message


def test_dividing_by_2n_without_the_root_is_diagnosed():
    message = diagnosis(check_residual_init_std, lambda n_layer, base=0.02: base / (2 * n_layer))
    assert "divides by 2 * n_layer" in message and "1/sqrt(N)" in message


def test_python_precedence_in_the_exponent_is_diagnosed():
    message = diagnosis(check_residual_init_std, lambda n_layer, base=0.02: base * (2 * n_layer) ** -1 / 2)
    assert "** binds tighter" in message


def test_residual_init_std_returning_nothing_or_text_is_reported():
    def no_return(n_layer, base=0.02):
        base / math.sqrt(2 * n_layer)

    assert "forget the `return`" in diagnosis(check_residual_init_std, no_return)
    message = diagnosis(check_residual_init_std, lambda n_layer, base=0.02: f"{base / math.sqrt(2 * n_layer)}")
    assert "expected a number" in message and "n_layer=12" in message


# ---- GPT-2: scoring a continuation ----


def continuation_logprob(logits, tokens, n_prompt, start_offset=1, axis=-1, kind="log", reduce=torch.sum, first=None):
    """sum over t >= first of log softmax(logits[t - start_offset])[tokens[t]], with switches for mistakes."""
    first = n_prompt if first is None else first
    T = tokens.shape[0]
    rows = logits[first - start_offset : T - start_offset]
    values = {"log": F.log_softmax, "plain": F.softmax}[kind](rows, dim=axis)
    return reduce(values[torch.arange(T - first), tokens[first:]])


def test_correct_continuation_logprob_passes(capsys):
    def looped(logits, tokens, n_prompt):
        return sum(torch.log_softmax(logits[t - 1], dim=0)[tokens[t]] for t in range(n_prompt, len(tokens)))

    def cross_entropy(logits, tokens, n_prompt):
        return -F.cross_entropy(logits[n_prompt - 1 : -1], tokens[n_prompt:], reduction="sum")

    for fn in (continuation_logprob, looped, cross_entropy):
        assert check_continuation_logprob(fn) is True
    assert "continuation_logprob: correct" in capsys.readouterr().out


def test_scoring_with_the_logits_of_the_same_position_is_diagnosed():
    message = diagnosis(check_continuation_logprob, lambda lg, tk, n: continuation_logprob(lg, tk, n, start_offset=0))
    assert "off-by-one" in message and "logits[n_prompt - 1 : -1]" in message


def test_scoring_the_prompt_too_is_diagnosed():
    message = diagnosis(check_continuation_logprob, lambda lg, tk, n: continuation_logprob(lg, tk, n, first=1))
    assert "scores the prompt's tokens as well" in message


def test_summing_probabilities_is_diagnosed():
    message = diagnosis(check_continuation_logprob, lambda lg, tk, n: continuation_logprob(lg, tk, n, kind="plain"))
    assert "instead of their log-probabilities" in message


def test_multiplying_probabilities_is_diagnosed():
    message = diagnosis(check_continuation_logprob,
                        lambda lg, tk, n: continuation_logprob(lg, tk, n, kind="plain", reduce=torch.prod))
    assert "returns P(y | x) itself" in message


def test_scoring_softmax_over_positions_is_diagnosed():
    message = diagnosis(check_continuation_logprob, lambda lg, tk, n: continuation_logprob(lg, tk, n, axis=0))
    assert "wrong axis" in message and "dim=-1" in message


def test_mean_instead_of_sum_is_diagnosed():
    mean = lambda lg, tk, n: continuation_logprob(lg, tk, n, reduce=torch.mean)  # noqa: E731
    message = diagnosis(check_continuation_logprob, mean)
    assert "mean log-probability per token instead of the sum" in message


def test_gather_with_a_one_dimensional_index_gets_a_hint():
    def flat_gather(logits, tokens, n_prompt):
        return torch.log_softmax(logits[n_prompt - 1 : -1], dim=-1).gather(-1, tokens[n_prompt:]).sum()

    assert "unsqueeze(-1)" in diagnosis(check_continuation_logprob, flat_gather)


# ---- InstructGPT's SFT loss (notebook 04) ----------------------------------------------------------------------

def sft_loss_loop(logits, tokens, n_prompt, lengths):
    """By hand: every response token of every row, predicted by the logits one position before it, averaged."""
    terms = [-torch.log_softmax(logits[b, t - 1], dim=-1)[tokens[b, t]]
             for b in range(len(tokens)) for t in range(int(n_prompt[b]), int(lengths[b]))]
    return torch.stack(terms).mean()


def sft_loss_with_cross_entropy(logits, tokens, n_prompt, lengths):
    """The library's way: targets set to -100 outside the response, one cross-entropy."""
    targets = tokens[:, 1:].clone()
    positions = torch.arange(1, tokens.size(1))[None, :]  # the position of each target token
    outside = (positions < n_prompt[:, None]) | (positions >= lengths[:, None])
    targets[outside] = -100
    return F.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-100)


@pytest.mark.parametrize("answer", [sft_loss_loop, sft_loss_with_cross_entropy])
def test_a_correct_sft_loss_passes(answer, capsys):
    assert check_sft_loss(answer) is True
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, diagnosis", [
    (lambda lo, to, n, le: sft_loss_loop(lo, to, torch.ones_like(n), le), "also scores the prompt"),
    (lambda lo, to, n, le: sft_loss_loop(lo, to, n, torch.full_like(le, to.size(1))), "also scores the padding"),
    (lambda lo, to, n, le: sft_loss_loop(lo, to, torch.ones_like(n), torch.full_like(le, to.size(1))),
     "the prompt's and the padding's too"),
    (lambda lo, to, n, le: torch.stack([-torch.log_softmax(lo[b, t], -1)[to[b, t]] for b in range(len(to))
                                        for t in range(int(n[b]), int(le[b]))]).mean(), "which can already see it"),
    (lambda lo, to, n, le: torch.stack([sft_loss_loop(lo[b:b + 1], to[b:b + 1], n[b:b + 1], le[b:b + 1])
                                        for b in range(len(to))]).mean(), "averages each row first"),
])
def test_each_sft_loss_mistake_is_diagnosed(wrong, diagnosis):
    with pytest.raises(AssertionError, match=diagnosis):
        check_sft_loss(wrong)
