"""Is a reward model good enough for PPO? How well it ranks the SFT model's own temperature-1 samples, where best-of-n
and PPO search: pairwise accuracy on the pairs gold scores apart, and the oracle fraction of its pick of 16.

Samples comparisons from the shipped SFT model (--rounds, --temperatures, ranked by the gold labeler at --noise; with
--demonstrations, --foils, an --unfinished copy), trains a reward model from the SFT weights (or takes the --shipped
one), and measures it: t=1 pairs and best of 8 on 300 prompts per split, the oracle fraction of 16 on notebook 06's
PPO prompts and the validation ones, and damaged held-out demonstrations (zoo.prefers_demonstrations).

    python experiments/reward_for_ppo.py --shipped
    python experiments/reward_for_ppo.py --rounds 48 --temperatures 0.7 1 1.3 --demonstrations --foils 2 --unfinished --noise 0

Conclusion (experiments/results/reward_for_ppo.md): from noisy rankings (72% agreement) the pick of 16 keeps none of
the oracle's gain. Without noise 24 rounds keep 0.30 (PPO prompts) / 0.46 (validation), 48 rounds 0.42-0.57 /
0.48-0.58: fresh comparisons are the lever. Two foils and an unfinished copy give 0.64 / 0.66 and teach missing ends
(0.20 -> 0.99 of damaged demonstrations) and wrong facts (0.70 -> 0.78); four foils do worse (0.57 / 0.48).
"""
import argparse
import json
import time
from pathlib import Path

import torch

from minigpt import tinyworld, zoo
from minigpt.best_of_n import best_of_n, oracle_fraction, untied_agreement
from minigpt.reward import Comparison, pairwise_accuracy, with_demonstrations, with_unfinished

import record_results


def on_own_samples(rm, sft, items, gold, n=8):
    """(pairwise accuracy on the untied pairs, gold of the RM's pick of n, mean gold) over n temperature-1 samples
    of the SFT model for each item."""
    proxy, golds = zoo.judged_samples(sft, items, rm, gold, samples=n, seed=5)  # (n, len(items)) each
    best = best_of_n(proxy, golds, n)["gold"]  # the pick of all n
    return round(untied_agreement(proxy, golds), 3), round(best, 3), round(golds.mean().item(), 3)


def sampled_comparisons(sft, labeler, args):
    """{"train": ..., "validation": ...} comparisons of the options; read from --cache when it holds the same
    options' samples (sampling is most of a run's time), else sampled and written there."""
    key = {"rounds": args.rounds, "temperatures": args.temperatures, "noise": args.noise}
    if args.cache and Path(args.cache).exists():
        saved = json.loads(Path(args.cache).read_text())
        if saved["key"] == key:
            return {split: [Comparison(**c) for c in saved[split]] for split in ("train", "validation")}
    data = {"train": zoo.comparisons(sft, "train", labeler, rounds=args.rounds, temperatures=args.temperatures,
                                     progress=True),
            "validation": zoo.comparisons(sft, "validation", labeler, temperatures=args.temperatures)}
    if args.cache:
        Path(args.cache).write_text(json.dumps({"key": key, **{split: [vars(c) for c in data[split]]
                                                                for split in data}}))
    return data


def trained_reward_model(sft, splits, noisy, args):
    """A reward model from the SFT weights, trained on the comparisons the options describe by zoo.fit_rm (the
    shipped recipe's training, at --epochs and --lr); and their number."""
    data = sampled_comparisons(sft, noisy, args)
    if args.demonstrations or args.foils:
        data["train"] = with_demonstrations(data["train"], splits["train"], noisy, own=args.demonstrations,
                                            foils=args.foils)
    if args.unfinished:
        data["train"] = with_unfinished(data["train"], noisy)
    recipe = {**zoo.RM.recipe, "epochs": args.epochs, "learning_rate": args.lr}
    rm, _ = zoo.fit_rm(zoo.load("sft", progress=False)[0], data, recipe)
    return rm, len(data["train"])


def fit_for_ppo(rm, sft, gold, splits):
    """Issue 29's test of a reward model for PPO: on 16 temperature-1 SFT samples of each of notebook 06's PPO
    prompts and of each validation prompt, the oracle fraction of its pick and its untied pairwise accuracy."""
    found = {}
    for name, items in (("ppo fit", list(zoo.ppo_prompts())), ("validation fit", splits["validation"])):
        proxy, golds = zoo.judged_samples(sft, items, rm, gold, samples=16, seed=11)
        found[name] = {"oracle fraction": round(oracle_fraction(proxy, golds), 3),
                       "pairs": round(untied_agreement(proxy, golds), 3)}
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--temperatures", type=float, nargs="+", default=[0.5, 1.0, 1.5, 2.0])
    parser.add_argument("--demonstrations", action="store_true")
    parser.add_argument("--foils", type=int, default=0)
    parser.add_argument("--unfinished", action="store_true",
                        help="add to each comparison a copy of one of its responses cut before its end-of-turn token")
    parser.add_argument("--cache", help="a JSON file for the sampled comparisons: read if it holds these options', "
                        "else written (the noiseless labeler's rankings only: --noise 0)")
    parser.add_argument("--noise", type=float, default=zoo.RM_NOISE)
    parser.add_argument("--epochs", type=float, default=1)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--shipped", action="store_true", help="measure the shipped reward model; train none")
    parser.add_argument("--save", help="write the reward model's state dict here (for ppo_runs.py --rm-weights)")
    record_results.add_options(parser)
    args = parser.parse_args(argv)
    if args.cache and args.noise:
        parser.error("--cache keeps noiseless rankings only (a noisy labeler's rankings depend on its draws so far)")
    tok, splits = zoo.tokenizer(chat=True), tinyworld.instructions(seed=0)
    gold, noisy = tinyworld.GoldLabeler(splits), tinyworld.GoldLabeler(splits, noise=args.noise, seed=1)
    sft, _ = zoo.load("sft", progress=False)
    start = time.perf_counter()
    if args.shipped:
        rm, record = zoo.load("rm", progress=False)
        n_comparisons = record["comparisons"]
    else:
        rm, n_comparisons = trained_reward_model(sft, splits, noisy, args)
    result = {"args": vars(args), "comparisons": n_comparisons,
              "val accuracy": pairwise_accuracy(rm, tok, zoo.comparisons(sft, "validation", noisy, seed=7), gold)}
    for split in ("train", "validation", "test"):
        pairs, best, mean = on_own_samples(rm, sft, splits[split][:300], gold)
        result[split] = {"t=1 pairs": pairs, "best of 8": best, "mean": mean}
    result.update(fit_for_ppo(rm, sft, gold, splits))
    result["prefers demonstration"] = {damage: round(share, 3) for damage, share in
                                       zoo.prefers_demonstrations(rm, splits["validation"] + splits["test"]).items()}
    result["seconds"] = round(time.perf_counter() - start)
    print(json.dumps(result))
    splits_shown = ("train", "validation", "test")
    record_results.record(__file__, [{
        "options": record_results.options(argv), "comparisons": result["comparisons"],
        "val acc": f"{result['val accuracy']:.3f}",
        **{f"{figure} train/val/test": "/".join(str(result[split][figure]) for split in splits_shown)
           for figure in ("t=1 pairs", "best of 8", "mean")},
        **{f"{figure} of 16 ppo/val": "/".join(str(result[f"{name} fit"][key]) for name in ("ppo", "validation"))
           for figure, key in (("oracle fraction", "oracle fraction"), ("t=1 pairs", "pairs"))},
        "demonstration over wrong fact/unfinished/repeated": "/".join(
            str(result["prefers demonstration"][damage]) for damage in ("wrong fact", "unfinished", "repeated")),
        "seconds": result["seconds"]}], args)
    if args.save:
        torch.save(rm.state_dict(), args.save)


if __name__ == "__main__":
    main()
