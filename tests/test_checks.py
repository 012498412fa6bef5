"""The exercise checkers: right answers pass, stubs say "not implemented yet", and each known
mistake, written here independently of minigpt.checks, is diagnosed in a student's terms."""
import math

import pytest
import torch

from minigpt.checks import check_causal_self_attention, check_merge_heads, check_split_heads


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
