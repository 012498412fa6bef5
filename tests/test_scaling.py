"""minigpt.scaling: C = 6ND with Kaplan's N, the power law with an irreducible term and its fit, and the held-out loss
it is fitted to."""
import numpy as np
import pytest
import torch

from minigpt.model import GPT, GPTConfig, parameter_count
from minigpt.reward import RewardModel
from minigpt.scaling import (PowerLaw, fit_huber, fit_line, fit_power_law, prediction_interval, profile_interval,
                             residuals, training_compute, training_flops)
from minigpt.training import validation_loss

COMPUTE = np.logspace(9, 12, 7)


def test_the_parameter_count_without_embeddings_counts_the_blocks_by_hand():
    for n_layer, n_embd in ((1, 32), (3, 48)):
        model = GPT(GPTConfig(vocab_size=100, block_size=16, n_layer=n_layer, n_head=4, n_embd=n_embd))
        d = n_embd
        # per block: two LayerNorms (2d each), attention c_attn (3d^2 + 3d) and c_proj (d^2 + d),
        # MLP c_fc (4d^2 + 4d) and c_proj (4d^2 + d); then the final LayerNorm
        by_hand = n_layer * (2 * 2 * d + 3 * d * d + 3 * d + d * d + d + 4 * d * d + 4 * d + 4 * d * d + d) + 2 * d
        assert parameter_count(model, embeddings=False) == by_hand
        assert by_hand == pytest.approx(12 * n_layer * d * d, rel=0.15)  # Kaplan's 12 n_layer d^2
        embeddings = 100 * d + 16 * d  # wte (tied to lm_head: counted once) and wpe
        assert parameter_count(model) == by_hand + embeddings == sum(p.numel() for p in model.parameters())
        assert parameter_count(RewardModel(model)) == by_hand + embeddings + d + 1  # and the scalar head


def test_training_compute_is_six_n_d():
    assert training_compute(1_000_000, 2_000_000_000) == 6 * 1_000_000 * 2_000_000_000


@pytest.mark.parametrize("d, layers, context, vocab", [(32, 2, 128, 30), (48, 3, 64, 1024)])
def test_training_flops_count_every_matmul_that_torch_runs(d, layers, context, vocab):
    from torch.utils.flop_counter import FlopCounterMode
    from minigpt.model import causal_attention
    config = GPTConfig(vocab_size=vocab, block_size=context, n_layer=layers, n_head=d // 8, n_embd=d)
    model, batch = GPT(config), 3
    x, y = torch.randint(0, vocab, (batch, context)), torch.randint(0, vocab, (batch, context))
    with FlopCounterMode(display=False) as counted:  # the weights' and the unembedding's matmuls, both passes
        model(x, y)[1].backward()
    q, k, v = (torch.randn(batch, d // 8, context, 8, requires_grad=True) for _ in range(3))
    with FlopCounterMode(display=False) as attention:  # one layer's attention, written out as matmuls
        causal_attention(q, k, v).sum().backward()
    total = counted.get_total_flops() + layers * attention.get_total_flops()
    assert training_flops(config, batch * context) == total
    assert training_flops(config, batch * context) > training_compute(parameter_count(model, embeddings=False),
                                                                      batch * context)


def test_fit_recovers_a_known_law_exactly():
    law = PowerLaw(a=40.0, b=0.21, irreducible=1.3)
    fitted = fit_power_law(COMPUTE, law.predict(COMPUTE))
    assert fitted.a == pytest.approx(40.0, rel=1e-3)
    assert fitted.b == pytest.approx(0.21, rel=1e-3)
    assert fitted.irreducible == pytest.approx(1.3, abs=1e-3)
    assert np.abs(residuals(fitted, COMPUTE, law.predict(COMPUTE))).max() < 1e-5


def test_fit_is_no_worse_than_the_true_law_on_noisy_runs():
    """Least squares on log L: the fit's sum of squares is at most the generating law's."""
    rng = np.random.default_rng(0)
    law = PowerLaw(a=25.0, b=0.15, irreducible=0.9)
    losses = law.predict(COMPUTE) * np.exp(rng.normal(0, 0.01, len(COMPUTE)))
    fitted = fit_power_law(COMPUTE, losses)

    def sse(candidate):
        return np.sum((np.log(losses) - np.log(candidate.predict(COMPUTE))) ** 2)

    assert sse(fitted) <= sse(law) + 1e-12
    assert 0.0 <= fitted.irreducible < losses.min()


def test_without_an_irreducible_term_the_law_is_a_straight_line_on_log_axes():
    losses = 7.0 * COMPUTE ** -0.1
    fitted = fit_power_law(COMPUTE, losses)
    slope, intercept = np.polyfit(np.log(COMPUTE), np.log(losses), 1)
    assert fitted.irreducible == pytest.approx(0.0, abs=1e-3)
    assert fitted.b == pytest.approx(-slope, rel=1e-3)
    assert fitted.a == pytest.approx(np.exp(intercept), rel=1e-2)


def test_prediction_interval_brackets_the_full_fit_and_is_tight_on_exact_data():
    law = PowerLaw(a=40.0, b=0.21, irreducible=1.3)
    low, high = prediction_interval(COMPUTE, law.predict(COMPUTE), 1e14)
    assert low <= float(law.predict(1e14)) + 1e-3 and high >= float(law.predict(1e14)) - 1e-3
    assert high - low < 1e-2


def test_with_the_floor_fixed_the_interval_spans_the_lines_through_every_pair_of_three_runs():
    compute, losses, floor = np.array([1e11, 3e11, 1e12]), np.array([0.40, 0.35, 0.31]), 0.1
    at = 1e14
    by_hand = []
    for i, j in ((0, 1), (0, 2), (1, 2)):  # the line through two runs on log(L - floor) against log C
        b = -np.log((losses[j] - floor) / (losses[i] - floor)) / np.log(compute[j] / compute[i])
        by_hand.append(floor + (losses[i] - floor) * (at / compute[i]) ** -b)
    assert prediction_interval(compute, losses, at, irreducible=floor) == pytest.approx((min(by_hand), max(by_hand)))
    with pytest.raises(ValueError, match="at least 3 runs"):
        prediction_interval(compute[:2], losses[:2], at, irreducible=floor)


def huber_objective(a, b, compute, losses, floor, delta):
    errors = np.abs(np.log(losses) - np.log(floor + a * compute**-b))
    return np.sum(np.where(errors <= delta, 0.5 * errors**2, delta * (errors - 0.5 * delta)))


def test_huber_fit_recovers_an_exact_law_and_beats_a_fine_grid_on_its_own_objective():
    law = PowerLaw(a=12.0, b=0.13, irreducible=0.08)
    compute = np.array([5e11, 1e12, 1.6e12, 3e12])
    assert fit_huber(compute, law.predict(compute), 0.08) == pytest.approx((12.0, 0.13), rel=1e-4)
    noisy = law.predict(compute) * np.array([1.01, 0.995, 1.004, 0.99])
    a, b = fit_huber(compute, noisy, 0.08)
    grid = [(a_, b_) for b_ in np.linspace(0.05, 0.25, 201) for a_ in 12.0 * np.exp(np.linspace(-1, 1, 201))]
    best_on_grid = min(huber_objective(a_, b_, compute, noisy, 0.08, 1e-3) for a_, b_ in grid)
    assert huber_objective(a, b, compute, noisy, 0.08, 1e-3) <= best_on_grid + 1e-12


def test_one_odd_run_moves_the_huber_fit_less_than_least_squares():
    law = PowerLaw(a=12.0, b=0.13, irreducible=0.08)
    compute = np.logspace(11, 12.5, 6)
    losses = law.predict(compute) * np.array([1.0, 1.0, 1.0, 1.08, 1.0, 1.0])  # one run 8% off
    squares, huber = fit_line(compute, losses, 0.08)[1], fit_huber(compute, losses, 0.08)[1]
    assert abs(huber - 0.13) < abs(squares - 0.13) / 3


def noisy_runs(scale, seed=0):
    law = PowerLaw(a=25.0, b=0.15, irreducible=0.9)
    return law, law.predict(COMPUTE) * np.exp(np.random.default_rng(seed).normal(0, scale, len(COMPUTE)))


def test_profile_interval_is_every_floor_whose_fit_stays_within_the_runs_scatter():
    """The same interval from a plain scan: np.polyfit on log(L - floor) for each floor, kept or not by its sum of
    squared log errors against the best one plus 3.84 times the residual variance (n - 3 degrees of freedom)."""
    _, losses = noisy_runs(0.02)
    at = 1e14
    scan = []
    for floor in np.linspace(0, losses.min(), 2000, endpoint=False):
        slope, intercept = np.polyfit(np.log(COMPUTE), np.log(losses - floor), 1)
        fitted = np.exp(intercept) * COMPUTE**slope + floor
        scan.append((np.sum((np.log(losses) - np.log(fitted)) ** 2), np.exp(intercept) * at**slope + floor))
    best = min(sse for sse, _ in scan)
    kept = [p for sse, p in scan if sse <= best + 3.84 * best / (len(COMPUTE) - 3)]
    low, high = profile_interval(COMPUTE, losses, at)
    assert low == pytest.approx(min(kept), rel=1e-6) and high == pytest.approx(max(kept), rel=1e-6)
    assert low <= float(fit_power_law(COMPUTE, losses).predict(at)) <= high


def test_profile_interval_widens_with_the_runs_scatter_and_holds_the_truth():
    for seed in range(5):
        law, quiet = noisy_runs(0.003, seed)
        _, loud = noisy_runs(0.03, seed)
        low, high = profile_interval(COMPUTE, quiet, 1e14)
        assert low <= float(law.predict(1e14)) <= high
        loud_low, loud_high = profile_interval(COMPUTE, loud, 1e14)
        assert loud_high - loud_low > high - low
    with pytest.raises(ValueError, match="at least 4 runs"):
        profile_interval(COMPUTE[:3], quiet[:3], 1e14)


@pytest.mark.parametrize("compute, losses, message", [
    ([1e9, 1e10], [3.0, 2.5], "at least 3 runs"),
    ([1e9, 1e10, 1e11], [2.0, 2.5, 3.0], "do not fall"),
    ([1e9, 1e10, 1e11], [3.0, -1.0, 2.0], "positive"),
    ([1e9, 1e10, 1e11], [3.0, 2.5], "same length"),
])
def test_bad_runs_get_a_clear_error(compute, losses, message):
    with pytest.raises(ValueError, match=message):
        fit_power_law(compute, losses)


def test_validation_loss_is_the_models_own_loss_over_consecutive_windows():
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=50, block_size=8, n_layer=1, n_head=2, n_embd=16))
    tokens = torch.randint(50, (3 * 8 + 1,))
    x, y = tokens[:-1].view(3, 8), tokens[1:].view(3, 8)
    model.eval()
    with torch.no_grad():
        _, expected = model(x, y)
    assert validation_loss(model, tokens, batch_size=2) == pytest.approx(expected.item(), rel=1e-5)
    with pytest.raises(ValueError, match="block_size"):
        validation_loss(model, tokens[:5])


def test_validation_loss_on_fixed_windows_is_the_mean_of_their_batch_losses():
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=50, block_size=8, n_layer=1, n_head=2, n_embd=16)).eval()
    windows = torch.randint(50, (6, 9))  # rows of 8 inputs and the next token
    with torch.no_grad():
        batch_losses = [model(w[:, :-1], w[:, 1:])[1].item() for w in windows.split(2)]
    assert validation_loss(model, windows, batch_size=4) == pytest.approx(sum(batch_losses) / 3, rel=1e-5)
