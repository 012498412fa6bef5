"""Issue 30's question: on the long-tailed world (tinyworld.LongTailWorld), does L - L_inf = a C^(-b), with L_inf fixed
at the exactly computed floor and fitted to a family of character-level GPTs, predict the loss of bigger runs?

Each run is notebook 08's: zoo.scaling_recipe(width, world=..., n_layer=--layers, tokens_per_parameter=...,
lr_scale=..., seed=...) (head size 8, context 128, batch 8, D = --tokens-per-parameter x N characters of fresh text,
AdamW at --lr-scale / width, warm-up a tenth, cosine to a tenth), trained by zoo.train_scaling (or taken from your
cache: a rerun trains only what is new, and the notebook's own runs are shared), its figures measured by
zoo.measure_scaling on 3,000 validation lines: the loss, the floor, the name excess, the fact nats, and for each
bucket of people by rank the answer nats and the share of facts known (their value at even odds or better).
C: the recipe's training_flops. Rows recorded before the script used the zoo's recipe came from the script of the
commit in their row (its own training loop, whose training text was a little longer, so a rerun may differ slightly);
those with --block, --batch or --val-lines (options it had then) cannot be rerun with this one.

    python experiments/longtail_scaling.py --exponent 1.08 --widths 48 56 64 --fit-from 48 --predict 96 128

Conclusion so far (experiments/results/longtail_scaling.md): the floor is a small share of the loss, and the excess
is mostly facts not yet learned, the most frequent people's first. A family in the head's burst (its top-ranked
people's facts being learned) has a steeper slope than the tail's that follows, and its law underestimates runs 5-66x
bigger by up to 22% of their loss; families past it (D = 60 N, or 3 facts a line) predict runs up to 14x bigger
within about 5%.
"""
import argparse
import json

from minigpt import zoo
from minigpt.cache import cached_run
from minigpt.scaling import fit_line
from minigpt.zoo.scaling import LEARNING_RATE_SCALE

import record_results


def run(width, args):
    """(recipe, record) of one width: zoo's recipe on this world, trained now or taken from your cache."""
    world = {**zoo.SCALING_WORLD, "people": args.people, "exponent": args.exponent, "attributes": args.attributes}
    recipe = zoo.scaling_recipe(width, world=world, n_layer=args.layers, tokens_per_parameter=args.tokens_per_parameter,
                                lr_scale=args.lr_scale, seed=args.seed)
    _, record = cached_run(recipe, lambda r: zoo.train_scaling(r, progress=False))
    print(json.dumps({"width": width, "N": recipe["non_embedding_parameters"], "D": recipe["tokens"],
                      "C": recipe["flops"], "seconds": round(record["seconds"], 1), **record["figures"]}), flush=True)
    return recipe, record


def row(recipe, record, role):
    """One row of the results table (its columns: those of the rows recorded before, then the nats)."""
    figures = record["figures"]
    return {"width": recipe["n_embd"], "N": recipe["non_embedding_parameters"], "C": f"{recipe['flops']:.2e}",
            "loss": round(figures["validation loss"], 4), "floor": round(figures["floor"], 4), "role": role,
            "seconds": round(record["seconds"], 1),
            **{k: round(v, 3) for k, v in figures.items() if k.startswith("facts known")},
            "name excess": round(figures["name excess"], 4), "fact nats": round(figures["fact nats"], 4),
            **{k: round(v, 3) for k, v in figures.items() if k.startswith("answer nats")}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=zoo.SCALING_WORLD["people"])
    parser.add_argument("--exponent", type=float, default=zoo.SCALING_WORLD["exponent"])
    parser.add_argument("--attributes", type=int, default=zoo.SCALING_WORLD["attributes"],
                        help="facts per person (and per line)")
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0, help="the initialisation's, the training text's and its order's")
    parser.add_argument("--widths", type=int, nargs="+", default=list(zoo.SCALING_FAMILY), help="the family")
    parser.add_argument("--predict", type=int, nargs="*", default=[],
                        help="widths whose loss the family's law predicts")
    parser.add_argument("--tokens-per-parameter", type=float, default=zoo.TOKENS_PER_PARAMETER)
    parser.add_argument("--lr-scale", type=float, default=LEARNING_RATE_SCALE, help="learning rate = this / width")
    parser.add_argument("--fit-from", type=int, default=0, help="fit the law to the family's widths from this one")
    parser.add_argument("--shipped", action="store_true",
                        help="predict the shipped runs too (scaling-ladder's and scaling-big's records: zoo's world "
                             "and recipe only)")
    parser.add_argument("--out", help="write the rows to this JSON file too")
    record_results.add_options(parser)
    args = parser.parse_args(argv)
    family = [run(width, args) for width in args.widths]
    fitted = [(recipe, record) for recipe, record in family if recipe["n_embd"] >= args.fit_from]
    floor = fitted[0][1]["figures"]["floor"]  # the same validation lines, so the same floor, for every run
    largest = max(recipe["flops"] for recipe, _ in fitted)
    a, b = fit_line([recipe["flops"] for recipe, _ in fitted],
                    [record["figures"]["validation loss"] for _, record in fitted], floor)  # L - floor = a C^-b
    rows = [row(recipe, record, "family" if recipe["n_embd"] >= args.fit_from else "not fitted")
            for recipe, record in family]
    checks = [run(width, args) for width in args.predict]
    if args.shipped:
        _, ladder = zoo.load("scaling-ladder", progress=False)
        _, big = zoo.load("scaling-big", progress=False)
        checks += [(r["recipe"], r) for r in ladder["runs"]] + [(zoo.SCALING_BIG_RUN.recipe, big)]
        assert all(recipe["world"] == family[0][0]["world"] for recipe, _ in checks), "--shipped: zoo's world only"
    for recipe, record in checks:
        loss, excess_hat = record["figures"]["validation loss"], a * recipe["flops"] ** -b
        loss_hat = floor + excess_hat
        rows.append(row(recipe, record, f"x{recipe['flops'] / largest:.0f}: predicted {loss_hat:.4f} "
                                        f"({loss_hat / loss - 1:+.1%}), excess {excess_hat / (loss - floor) - 1:+.1%}"))
    print(f"fit: L - {floor:.4f} = {a:.3g} C^-{b:.3f}")
    for line in rows:
        print(line)
    record_results.record(__file__, [{"options": record_results.options(argv), **line} for line in rows], args)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
