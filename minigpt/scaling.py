"""Predictable scaling, GPT-4's report in miniature: fit small runs, predict a run 100x bigger, then check.

OpenAI (2023), section 3: GPT-4's final loss was predicted from models trained with at most 1/1,000th of its
compute, by fitting a power law with an irreducible loss term,

    L(C) = a C^(-b) + L_inf

where C is the training compute. Kaplan et al. (2020) count C in floating-point operations as

    C ≈ 6 N D        N: the non-embedding parameters, D: the tokens seen in training

(2 N per token forward, 4 N backward). The fit is least squares on log L: for a given L_inf, log(L - L_inf) is a
straight line in log C with intercept log a and slope -b (fit_line); L_inf is chosen where the law fits best.

    n = parameter_count(model, embeddings=False)  # minigpt.model: Kaplan's N
    law = fit_power_law(compute, losses)         # PowerLaw(a, b, irreducible)
    law.predict(100 * max(compute))
    low, high = prediction_interval(compute, losses, at)   # the spread of leave-one-out fits
    low, high = profile_interval(compute, losses, at)      # every L_inf the runs cannot rule out
"""
import math
from dataclasses import dataclass

import numpy as np

from .prompting import score_many


def training_compute(n_parameters, tokens):
    """C ≈ 6 N D floating-point operations: a forward pass costs about 2N per token and a backward pass 4N."""
    return 6 * n_parameters * tokens


def training_flops(config, tokens):
    """Training FLOPs with every matmul counted, for a GPTConfig and the tokens trained on: 3 x the forward pass (the
    backward pass costs twice the forward), whose matmuls per token are
        2 x 12 d^2 per layer    the weight matrices: q, k, v, the projection and the MLP's two (Kaplan's 2N)
        4 T d per layer         the attention's scores Q K^T and weighted sum over a context of T = block_size,
                                computed densely (then masked), as the kernel does
        2 d V                   the unembedding, to logits over the vocabulary
    6 N D leaves out the last two: at notebook 08's widths and context they are a fifth of the total or more."""
    d, layers, context, vocab = config.n_embd, config.n_layer, config.block_size, config.vocab_size
    forward = 2 * 12 * d * d * layers + 4 * context * d * layers + 2 * d * vocab
    return 3 * forward * tokens


@dataclass(frozen=True)
class PowerLaw:
    """L(C) = a C^(-b) + irreducible."""
    a: float
    b: float
    irreducible: float

    def predict(self, compute):
        return self.a * np.asarray(compute, dtype=float) ** (-self.b) + self.irreducible

    def __str__(self):
        return f"L(C) = {self.a:.4g} * C^(-{self.b:.4f}) + {self.irreducible:.4f}"


def fit_line(compute, losses, irreducible):
    """(a, b) for one L_inf: log(L - L_inf) = log a - b log C is a straight line in log C, fitted by least squares
    (natural logarithms on both axes)."""
    slope, intercept = np.polyfit(np.log(compute), np.log(np.asarray(losses, dtype=float) - irreducible), 1)
    return math.exp(intercept), -slope


def fit_huber(compute, losses, irreducible, *, delta=1e-3):
    """(a, b) for one L_inf by Chinchilla's Approach 3 (Hoffmann et al. 2022): minimise the Huber loss of the log
    errors, sum_i Huber_delta(log L_i - log(L_inf + a C_i^(-b))), with L-BFGS from a grid of starting exponents
    (each start's log a puts the law through the runs' mean), keeping the best. Huber's loss is squared below
    delta and linear above: with delta = 1e-3, a run that misses by more than 0.1% weighs by its error's size, not
    its square, so one odd run moves the law less than in least squares (fit_line)."""
    import torch  # only this fit needs it

    log_c = torch.tensor(np.log(compute), dtype=torch.float64)
    log_l = torch.tensor(np.log(losses), dtype=torch.float64)
    excess = np.log(np.asarray(losses, dtype=float) - irreducible)

    def objective(log_a, b):
        errors = log_l - torch.log(irreducible + torch.exp(log_a - b * log_c))
        return torch.nn.functional.huber_loss(errors, torch.zeros_like(errors), delta=delta, reduction="sum")

    best = None
    for start in (0.02, 0.05, 0.1, 0.2, 0.4, 0.8):
        log_a = torch.tensor(float(np.mean(excess + start * np.log(compute))), dtype=torch.float64,
                             requires_grad=True)
        b = torch.tensor(start, dtype=torch.float64, requires_grad=True)
        optimizer = torch.optim.LBFGS([log_a, b], max_iter=500, tolerance_grad=1e-12, tolerance_change=1e-15,
                                      line_search_fn="strong_wolfe")

        def closure():
            optimizer.zero_grad()
            loss = objective(log_a, b)
            loss.backward()
            return loss

        optimizer.step(closure)
        with torch.no_grad():
            value = float(objective(log_a, b))
        if best is None or value < best[0]:
            best = (value, math.exp(log_a.item()), b.item())
    return best[1], best[2]


def log_error(law, compute, losses):
    """The sum of squared differences of log L between the runs and a law: what the fit makes smallest."""
    return float(np.sum((np.log(losses) - np.log(law.predict(compute))) ** 2))


def fit_power_law(compute, losses, steps=200):
    """Fit L(C) = a C^(-b) + L_inf to runs (compute in FLOPs, final losses), by least squares on log L.

    For each L_inf on a grid from 0 to just under the smallest loss, a and b come from a straight-line fit of
    log(L - L_inf) against log C; the grid is then refined around the best L_inf (three rounds). Needs at least
    3 runs, positive compute and losses, and losses that fall as compute grows (else no power law can fit)."""
    compute, losses = np.asarray(compute, dtype=float), np.asarray(losses, dtype=float)
    if compute.shape != losses.shape or compute.ndim != 1:
        raise ValueError(f"compute and losses must be two lists of the same length, got shapes "
                         f"{compute.shape} and {losses.shape}")
    if len(compute) < 3:
        raise ValueError(f"fitting a, b and L_inf needs at least 3 runs, got {len(compute)}")
    if np.any(compute <= 0) or np.any(losses <= 0) or not np.all(np.isfinite(losses)):
        raise ValueError("compute and losses must be positive, finite numbers")
    if np.polyfit(np.log(compute), losses, 1)[0] >= 0:
        raise ValueError("the losses do not fall as compute grows: no power law with b > 0 fits them; "
                         "check the runs' compute and losses, and that they were trained with one recipe")
    low, high = 0.0, float(losses.min())
    for _ in range(3):
        grid = np.linspace(low, high, steps, endpoint=False)
        errors = [log_error(PowerLaw(*fit_line(compute, losses, x), x), compute, losses) for x in grid]
        best = int(np.argmin(errors))
        width = grid[1] - grid[0]
        low, high = max(0.0, grid[best] - width), min(float(losses.min()) - 1e-12, grid[best] + width)
    irreducible = float(grid[best])
    return PowerLaw(*fit_line(compute, losses, irreducible), irreducible)


def residuals(law, compute, losses):
    """Relative residuals (measured - fitted) / fitted of each run."""
    fitted = law.predict(compute)
    return (np.asarray(losses, dtype=float) - fitted) / fitted


def prediction_interval(compute, losses, at, irreducible=None):
    """(lowest, highest) prediction at compute `at` over the fits that leave one run out: how much the
    prediction rests on any single run (a jackknife's spread, not a probability). With `irreducible` given, each
    fit is fit_line's with L_inf fixed there (3 runs or more); else fit_power_law's (4 or more)."""
    compute, losses = np.asarray(compute, dtype=float), np.asarray(losses, dtype=float)
    needed = 3 if irreducible is not None else 4
    if len(compute) < needed:
        raise ValueError(f"leaving one run out needs at least {needed} runs ({needed - 1} remain to fit), "
                         f"got {len(compute)}")
    keep = ~np.eye(len(compute), dtype=bool)
    if irreducible is not None:
        laws = [PowerLaw(*fit_line(compute[k], losses[k], irreducible), irreducible) for k in keep]
    else:
        laws = [fit_power_law(compute[k], losses[k]) for k in keep]
    predictions = [float(law.predict(at)) for law in laws]
    return min(predictions), max(predictions)


def profile_interval(compute, losses, at, *, level=3.84, steps=2000):
    """(lowest, highest) prediction at compute `at` over every L_inf that the runs cannot rule out.

    The runs pin a and b for a given L_inf far better than they pin L_inf itself. So the law is refitted for
    each L_inf on a grid (fit_line), and an L_inf is kept while its sum of squared log errors S(L_inf) stays within
    `level` times the runs' scatter of the best one's:

        S(L_inf) <= S_min + level * s^2,    s^2 = S_min / (n - 3)    (n runs, 3 fitted numbers)

    level 3.84 is the 95% point of a chi-squared with one degree of freedom: a profile-likelihood interval for
    L_inf, turned into an interval for the prediction. Needs at least 4 runs."""
    compute, losses = np.asarray(compute, dtype=float), np.asarray(losses, dtype=float)
    if len(compute) < 4:
        raise ValueError(f"estimating the runs' scatter needs at least 4 runs (one more than the 3 fitted numbers), "
                         f"got {len(compute)}")
    best = log_error(fit_power_law(compute, losses), compute, losses)
    threshold = best + level * best / (len(compute) - 3)
    kept = []
    for floor in np.linspace(0.0, float(losses.min()), steps, endpoint=False):
        law = PowerLaw(*fit_line(compute, losses, floor), float(floor))
        if log_error(law, compute, losses) <= threshold:
            kept.append(float(law.predict(at)))
    return min(kept), max(kept)


def answer_logprob(model, tokenizer, examples):
    """A capability measured smoothly: the mean over examples (tinyworld Examples) of log P(answer | prompt), the
    summed log-probability of the right answer's tokens. Accuracy jumps from chance once the right answer
    overtakes the others; its log-probability rises step by step before and after."""
    scores = score_many(model, tokenizer, [(ex.prompt, [ex.answer]) for ex in examples], normalize="sum")
    return sum(s[0] for s in scores) / len(scores)
