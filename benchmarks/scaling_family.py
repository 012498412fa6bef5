"""Notebook 08's family: final validation loss of TinyWorld GPTs trained with one recipe at several sizes, and
whether L(C) = a C^(-b) + L_inf fitted to them predicts a run 100x bigger.

    python benchmarks/scaling_family.py                                   # zoo.SCALING_FAMILY, zoo's recipe
    python benchmarks/scaling_family.py --shapes 2x32 2x40 2x48 --batch-size 16 --lr 0.016
    python benchmarks/scaling_family.py --shapes 2x184                    # the big run (about 28 minutes here)

Each run: zoo.scaling_recipe (D = 20 N tokens, context 64, warmup a tenth, cosine to a tenth), with the batch
size and learning rate given here; measured by zoo.measure_scaling on the fixed validation text. It prints one
line per run and, with 3 or more runs, the fit and its prediction at --predict-at (with 4 or more, the spread of
the fits leaving one run out and the profile interval over L_inf, scaling.profile_interval).

Measured on 2026-12-02 (2 threads; `make bench` 59.9 ms/step), zoo's recipe (batch 8, lr 0.64 / n_embd, D = 20 N),
validation loss on the fixed text (seed 2023); the big run is `make models NAME=scaling-big` (1,702 s):

    shape   N        C        loss      shape   N        C        loss
    2x16    6,592    5.2e9    3.187     2x48    56,640   3.8e11   1.138 (1.171 with one step more)
    2x24    14,496   2.5e10   1.783     2x56    76,832   7.1e11   1.044 (1.070 with one step more)
    2x32    25,472   7.8e10   1.431     2x64    100,096  1.2e12   0.993 (with one step more)
    2x40    39,520   1.9e11   1.309     2x184   817,696  8.0e13   0.836  the shipped scaling-big, 113x 2x56
    4x24    28,944   1.0e11   1.511     4x32    50,880   3.1e11   1.292     4x40    78,960   7.5e11   1.123

Predictions of the 2x184 run's 0.836 from the family (best fit; profile interval, scaling.profile_interval):

    family          fitted law                          best fit        profile interval
    2x24..2x56      243.6 C^-0.215 + 0.356              0.606 (-27%)    0.493 to 0.878   (notebook 08's)
    2x32..2x56      40.7 C^-0.133 + 0                   0.574 (-31%)    0.574 to 0.906
    2x16..2x56      6.9e5 C^-0.565 + 0.955              0.965 (+15%)    0.850 to 1.016   (2x16 is before a jump)

What this shows (issue 15's 3% is not reached):
  - A run is reproducible to the last digit on one machine, but one training step more or less (the rounding of D
    to whole batches) moves 2x48's loss by 3%: the family scatters by 1-3% around any smooth law.
  - Within the family's compute the laws with L_inf anywhere from 0 to about 0.8 fit almost equally well; 100x
    further on they part. The TinyWorld text's own irreducible loss is well below the family's losses (the 2x184
    run reaches 0.836, a 3x128 run at half its compute 0.790), so the family cannot see where the curve levels off.
    The best fit misses by 27-31%; the profile interval holds the measurement, and is wide.
  - Two layers are not what limits the big run: at the family's sizes 4 layers are worse at equal compute (4x32
    1.292 against 2x48 1.138 at 3.1-3.8e11).
  - Earlier (2026-12-01, batch 16, lr 0.192 / n_embd): the loss drops by a quarter between 2x28 and 2x32, and a
    3x128 run at 4.2e13 reached 0.790.
  - Next: a family that reaches closer to the irreducible loss (longer runs at each size, or Chinchilla's
    L(N, D) = E + A / N^alpha + B / D^beta fitted to several token budgets per size) and a big run 100x beyond it,
    which needs hours of CPU or a GPU.
"""
import argparse
import json
import time

from minigpt import zoo
from minigpt.scaling import fit_power_law, prediction_interval, profile_interval, residuals, training_compute


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", nargs="+", default=[f"{l}x{d}" for l, d in zoo.SCALING_FAMILY],
                        help="n_layer x n_embd of each run")
    parser.add_argument("--batch-size", type=int, default=zoo.SCALING_BATCH)
    parser.add_argument("--lr", type=float, help="one learning rate for every size (default: zoo's rule)")
    parser.add_argument("--lr-width", type=float, help="learning rate = this / n_embd")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--predict-at", type=float, default=8.02e13, help="compute (FLOPs) to predict the loss at")
    args = parser.parse_args()
    compute, losses = [], []
    for shape in args.shapes:
        n_layer, n_embd = map(int, shape.split("x"))
        recipe = zoo.scaling_recipe(n_layer, n_embd, seed=args.seed)
        steps = round(recipe["tokens"] / (args.batch_size * 64))  # the same tokens, in batches of this size
        recipe.update(batch_size=args.batch_size, max_iters=steps, warmup_iters=steps // 10, eval_every=steps,
                      tokens=steps * args.batch_size * 64)
        if args.lr or args.lr_width:
            recipe["learning_rate"] = args.lr or args.lr_width / n_embd
        start = time.perf_counter()
        _, record = zoo.train_scaling(recipe, progress=False)
        c = training_compute(recipe["non_embedding_parameters"], recipe["tokens"])
        compute.append(c)
        losses.append(record["figures"]["validation loss"])
        print(json.dumps({"shape": shape, "N": recipe["non_embedding_parameters"], "tokens": recipe["tokens"],
                          "C": f"{c:.3g}", "lr": recipe["learning_rate"], "batch": args.batch_size,
                          **{k: round(v, 4) for k, v in record["figures"].items()},
                          "seconds": round(time.perf_counter() - start, 1)}), flush=True)
    if len(compute) >= 3:
        law = fit_power_law(compute, losses)
        print(law, " residuals", [round(float(r), 4) for r in residuals(law, compute, losses)])
        print(f"predicted at C = {args.predict_at:.3g} ({args.predict_at / max(compute):.0f}x the largest run): "
              f"{float(law.predict(args.predict_at)):.4f}")
        if len(compute) >= 4:
            low, high = prediction_interval(compute, losses, args.predict_at)
            print(f"leave-one-out interval: {low:.4f} to {high:.4f}")
            low, high = profile_interval(compute, losses, args.predict_at)
            print(f"profile interval (every L_inf the runs allow): {low:.4f} to {high:.4f}")


if __name__ == "__main__":
    main()
