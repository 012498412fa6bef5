"""Is "bigger is better" at zero-shot larger than seed noise? (notebook 02's comparison, repeated)

Trains the three sizes of minigpt.zoo (XS, S, M; the same data, steps and learning rate) for several seeds and
prints the zero-shot accuracy on held-out TinyWorld items, per task and on average, at the end of training. Chance
is 0.25 for every task. About a minute per seed on 2 cores (nothing cached).

    python experiments/zero_shot_sizes.py [--seeds 3]

Conclusion (experiments/results/zero_shot_sizes.md): it is. Mean held-out accuracy over 3 seeds XS 0.22 +- 0.01,
S 0.26 +- 0.01, M 0.42 +- 0.02; each larger size was at least as good as the smaller one in 3 of 3 seeds.
"""
import argparse
import statistics

from minigpt import zoo

import record_results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    record_results.add_options(parser)
    args = parser.parse_args(argv)
    finals = {}  # (size, seed) -> {task: accuracy}
    for seed in range(args.seeds):
        for size in zoo.SIZES:
            _, record = zoo.train(zoo.recipe(size, seed=seed), progress=False)
            final = {k: v for k, v in record["curve"][-1].items() if k != "step"}
            finals[size, seed] = final
            print(f"seed {seed} {size:>2} ({record['parameters']:,} parameters, {record['seconds']:.0f} s): "
                  f"mean {statistics.mean(final.values()):.3f}  "
                  + " ".join(f"{k} {v:.2f}" for k, v in final.items()), flush=True)

    tasks = list(finals[next(iter(finals))])
    print(f"\nheld-out zero-shot accuracy, mean +- sd over {args.seeds} seeds (chance 0.25)")
    print(f"{'size':>4} " + " ".join(f"{t:>11}" for t in tasks) + "        mean")
    rows = {}
    for size in zoo.SIZES:
        cells = [[finals[size, s][t] for s in range(args.seeds)] for t in tasks]
        means = [statistics.mean(finals[size, s].values()) for s in range(args.seeds)]
        spread = (lambda xs: f"{statistics.mean(xs):.2f}+-{statistics.stdev(xs):.2f}") if args.seeds > 1 else (
            lambda xs: f"{xs[0]:.2f}")
        print(f"{size:>4} " + " ".join(f"{spread(c):>11}" for c in cells) + f" {spread(means):>11}")
        rows[size] = {"options": record_results.options(argv), "size": size, "mean": spread(means),
                      "by task": ", ".join(f"{t} {spread(c)}" for t, c in zip(tasks, cells)),
                      "at least as good as the smaller size": "-"}
    for small, large in zip(list(zoo.SIZES), list(zoo.SIZES)[1:]):
        wins = sum(statistics.mean(finals[large, s].values()) >= statistics.mean(finals[small, s].values())
                   for s in range(args.seeds))
        print(f"{large} at least as good as {small} on average in {wins} of {args.seeds} seeds")
        rows[large]["at least as good as the smaller size"] = f"in {wins} of {args.seeds} seeds"
    record_results.record(__file__, list(rows.values()), args)


if __name__ == "__main__":
    main()
