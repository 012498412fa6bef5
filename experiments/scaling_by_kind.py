"""Notebook 08's TinyWorld family, measured on each kind of TinyWorld paragraph apart: does one part of the text
hide the bend that the family's law misses (experiments/scaling_family.py), and would a law fitted to one kind alone
predict the big run?

Each kind's text is that kind's paragraphs alone (TinyWorld's Writer with the validation text's seed, about 40,000
characters each); its share is the kind's share of the mixed text's tokens. Runs are zoo.tinyworld_run's of
zoo.tinyworld_recipe (trained now or loaded from your cache). The law of each kind, and of share-weighted mixes, is
fitted to the family (zoo.TINYWORLD_FAMILY) and predicts the runs above it.

    python experiments/scaling_by_kind.py                # the family, 2x64 2x96 2x128, the big run (zoo.TINYWORLD_BIG)
    python experiments/scaling_by_kind.py --deep         # and the 4x128 run at the big run's compute (12 min)

Conclusion (experiments/results/scaling_by_kind.md): no. Every kind bends at about 1e12 FLOPs or later, each at its
own floor (Q/A 0.35, stories 0.85), and every kind's own law expects more of the big run than it delivers (all but
the smallest kind); leaving a kind out does not rescue the prediction. Depth matters for the lex paragraphs alone.
"""
import argparse
import itertools
import json
import random
import time

from minigpt import zoo
from minigpt.scaling import fit_power_law, training_compute
from minigpt.tinyworld.text import PARAGRAPH_WEIGHTS, Writer
from minigpt.tinyworld.world import World

import record_results


def kind_texts(seed=2023, n_chars=40_000):
    """{kind: token ids of that kind's paragraphs alone}, and {kind: its share of the mixed text's tokens}."""
    tokenizer, writer = zoo.tokenizer(), Writer(World(), random.Random(seed))
    tokens, per_paragraph = {}, {}
    for kind in PARAGRAPH_WEIGHTS:
        paragraphs, length = [], 0
        while length < n_chars:
            paragraphs.append(getattr(writer, kind)())  # writer.story(), writer.facts(), ...
            length += len(paragraphs[-1]) + 2
        tokens[kind] = tokenizer.encode("\n\n".join(paragraphs) + "\n")
        per_paragraph[kind] = PARAGRAPH_WEIGHTS[kind] * len(tokens[kind]) / len(paragraphs)
    total = sum(per_paragraph.values())
    return tokens, {kind: weight / total for kind, weight in per_paragraph.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--above", nargs="*", default=["2x64", "2x96", "2x128"],
                        help="runs of zoo's recipe above the family, measured but not fitted")
    parser.add_argument("--deep", action="store_true", help="also the 4x128 run at the big run's compute (12 min)")
    parser.add_argument("--all-mixes", action="store_true", help="fit every share-weighted mix of kinds")
    record_results.add_options(parser)
    args = parser.parse_args(argv)
    from minigpt.training import validation_loss

    tokens, share = kind_texts()
    print("shares of the text's tokens:", {kind: round(s, 3) for kind, s in share.items()})
    runs = [(f"{l}x{d}", lambda l=l, d=d: zoo.tinyworld_run(zoo.tinyworld_recipe(l, d), progress=False)[0],
             training_compute(zoo.tinyworld_parameters(l, d), zoo.tinyworld_recipe(l, d)["tokens"]))
            for l, d in [*zoo.TINYWORLD_FAMILY, *(map(int, shape.split("x")) for shape in args.above)]]
    big = zoo.tinyworld_recipe(*zoo.TINYWORLD_BIG)  # the run once shipped as scaling-big (about 28 minutes to train)
    big_compute = training_compute(big["non_embedding_parameters"], big["tokens"])
    runs.append(("x".join(map(str, zoo.TINYWORLD_BIG)), lambda: zoo.tinyworld_run(big, progress=False)[0], big_compute))
    if args.deep:  # 4 x 128 on the tokens that give the big run's compute, in whole batches
        deep_tokens = round(big_compute / 6 / zoo.tinyworld_parameters(4, 128))
        runs.append(("4x128", lambda: zoo.tinyworld_run(zoo.tinyworld_recipe(4, 128, deep_tokens), progress=False)[0],
                     big_compute))
    rows, recorded = [], []
    for name, load, compute in runs:
        start = time.perf_counter()
        model = load()
        rows.append({"run": name, "C": compute, **{kind: validation_loss(model, ids) for kind, ids in tokens.items()}})
        line = {**{k: (round(v, 4) if isinstance(v, float) else v) for k, v in rows[-1].items()},
                "C": f"{compute:.2g}", "seconds": round(time.perf_counter() - start, 1)}
        print(json.dumps(line), flush=True)
        recorded.append({"options": record_results.options(argv), **line})
    family = rows[: len(zoo.TINYWORLD_FAMILY)]
    compute = [row["C"] for row in family]
    mixes = [(kind,) for kind in share] + [tuple(k for k in share if k != "lex"), tuple(share)]
    if args.all_mixes:
        mixes = [kinds for n in range(1, len(share) + 1) for kinds in itertools.combinations(share, n)]
    fits = []
    for kinds in mixes:
        mix = lambda row: sum(share[k] * row[k] for k in kinds) / sum(share[k] for k in kinds)  # noqa: E731
        law = fit_power_law(compute, [mix(row) for row in family])
        checks = "  ".join(f"{row['run']} {float(law.predict(row['C'])):.3f} / {mix(row):.3f} "
                           f"({float(law.predict(row['C'])) / mix(row) - 1:+.0%})" for row in rows[len(family):])
        print(f"{' + '.join(kinds):45} {law}   predicted / measured: {checks}")
        fits.append({"options": record_results.options(argv), "kinds": " + ".join(kinds), "law": str(law),
                     "predicted / measured": checks})
    record_results.record(__file__, recorded, args)
    record_results.record(__file__, fits, args)


if __name__ == "__main__":
    main()
