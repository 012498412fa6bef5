"""The reward model's held-out pairwise accuracy, by amount of comparison data, epochs, labeler noise and batching.

    python benchmarks/reward_model.py                                  # the shipped recipe: 6 rounds, 1 epoch
    python benchmarks/reward_model.py --rounds 1 --epochs 3 --shuffled --seeds 0 1 2   # InstructGPT's batching claim
    python benchmarks/reward_model.py --rounds 24 --epochs 2 --noise 0 --careless 0.54   # another kind of labeler noise
    python benchmarks/reward_model.py --rounds 12 --epochs 2 --noise 0 --by-kind        # which kinds it misses, and why
    python benchmarks/reward_model.py --rounds 12 --epochs 2 --noise 0 --base-iters 6000  # a longer pre-trained base
    python benchmarks/reward_model.py --rounds 12 --epochs 2 --noise 0 --by-kind --ties drop  # no pairs of equals
    python benchmarks/reward_model.py --rounds 12 --epochs 2 --noise 0 --by-kind --base-shape 6 192 \
        --text-chars 4500000 --base-iters 4000                                         # a larger backbone

Each run samples comparisons from the shipped SFT model (zoo.comparisons: K from 4 to 9 responses per training
prompt, temperatures 0.5 to 2, repeats dropped), ranks them with the gold labeler at --noise, trains a reward
model from the SFT weights (reward.train_reward_model) and measures, four times an epoch, the validation loss and
the pairwise accuracy against the noiseless labeler on the validation prompts; at the end on the test prompts too.
--shuffled splits every comparison into its C(K, 2) pairs, each a separate data point, instead of one batch
element per prompt; an epoch is then one pass over the pairs, batch_size pairs a step. Both ways are compared on
the same validation loss: the K-wise loss over every validation prompt.

Measured on 2026-12-01 (2 threads; `make bench` 37.8 ms/step), last-token head as the issue and InstructGPT specify,
validation / test accuracy against the noiseless labeler:

    rounds  epochs  lr     noise  val    test
    2       1       3e-4   0      0.688  0.657    before the labeler's made-up-words rule (gibberish stories scored 1)
    6       1       3e-4   0      0.730  0.679    before the rule
    2       1       3e-4   0      0.729  0.700
    6       3       1e-3   0      0.796  0.752
    6       3       2e-3   0      0.783  0.759
    6       3       1e-3   0      0.789  0.729    the lower two blocks and the embeddings frozen
    6       3       1e-3   0      0.821  0.751    a mean-pooled head instead of the last token's
    6       3       1e-3   0.3    0.713  0.709    a mean-pooled head
    6       1       1e-3   0.4    0.707  0.697    the shipped recipe (make models: 0.701 / 0.708 on fresh samples)
    6       3       1e-3   0.4    0.726  0.693
    24      2       1e-3   0      0.837  0.805    still rising at the end (0.794 after one epoch); 489 s of training
    24      2       1e-3   0.4    0.724  0.715    flat from the first epoch on (0.735 after one); 547 s
    24      2       1e-3   c0.54  0.774  0.761    --careless 0.54 (2026-12-02, bench_ms 60): 73% agreement too; 555 s
    24      4       1e-3   c0.54  0.73   -        the same, 4 epochs: 0.70-0.74 at every half epoch, no higher (2026-12-02)
    12      2       1e-3   0      0.823  0.764    (2026-12-02, bench_ms 60; 298 s)
    12      2       1e-3   0      0.850  0.767    --by-kind (2026-12-02, bench_ms 60; 276 s): this script's own samples
    12      2       1e-3   0      0.774  0.659    --temperatures 0.5 0.75 1 1.25 1.5: fewer gibberish responses, and the
                                                  pairs left are harder (6,600 comparisons against 9,000; 195 s)
    12      2       1e-3   0      0.797  0.752    --base-iters 6000 (2026-12-02, bench_ms 49; 219 s): the SFT recipe on
                                                  a base pre-trained 3x longer, 25 passes over the 1.5M characters of
                                                  text (its validation loss lowest, 0.826, at step 3,500, 0.926 at the
                                                  end). That SFT model is better (test gold 0.722 against 0.694), its
                                                  reward model no better: count 0.72 and list 0.63 on validation
    12      2       1e-3   0      0.837  0.756    a 6 x 192 base (2.5x the parameters; 2026-12-02, bench_ms 22.4;
                                                  248 s) pre-trained 4,000 steps on 4.5M characters (12 min; its LM
                                                  validation loss 0.770, shipped 0.819; zero-shot 0.734, shipped 0.620),
                                                  then SFT (validation gold 0.936, shipped 0.902): a better base and a
                                                  better SFT model, and a reward model no better. By kind on
                                                  validation: count 0.83, list 0.79 (better), story 0.76, translate
                                                  0.80, home 0.75, pet 0.71 (worse); 0.858 on fresh samples for the
                                                  training prompts, as the 4 x 128 backbone's 0.860
    12      2       1e-3   0      0.845  0.764    --ties drop (2026-12-02, bench_ms 22.4; 91 s): the 26% of training
                                                  pairs that the labeler scores equal and ranks by length left out,
                                                  on the same samples as the --by-kind row's 0.850 / 0.767: the
                                                  length order of ties neither helps nor hurts (count 0.70 again)
    12      3       3e-4   0      0.835  0.753    (2026-12-02, bench_ms 22; 190 s) a tenth of the base model's
    12      3       1e-4   0      0.798  0.737    learning rate or less, as InstructGPT's reward models were trained
                                                  (9e-6 for its 6B, a small share of pre-training's): no better

(Batch 32 prompts; the rows come from scratch runs of this code with other sampling seeds: the validation prompts'
~1,000 pairs move the accuracy by +-0.03 from one sampling to the next.)

Which kinds it misses (--rounds 12 --epochs 2 --noise 0 --by-kind), pairwise accuracy on the validation comparisons
and on fresh samples for the training prompts, whose demonstrations and comparisons it has seen:

    kind           validation  train, fresh    kind           validation  train, fresh
    count          0.697       0.686           plural         0.920       0.936
    list           0.750       0.713           opposite       0.868       0.976
    story          0.888       0.875           category       0.872       0.970
    translate      0.851       0.923           false premise  0.915       0.906
    home/pet/food  0.93/0.88/1.0  0.87/0.92/0.86   (all pairs: 0.850 validation, 0.860 train)

Counting and lists are missed as often on the training prompts as on new ones: those rules (N items, each one of the
kind; the numbers from a to b in order) are not learned from this much data by this model, while the facts of new
prompts mostly are. Noise then takes 6-13 points more.

"c0.54" is --noise 0 --careless 0.54: the labeler ranks correctly, except that it shuffles 54% of its rankings at
random (a careless labeler), which agrees with the noiseless labeler on 73% of pairs as noise 0.4 does; but where
Gaussian noise on the scores turns a pair that differs by one weight-1 rule into a near coin flip (58% right), the
careless labeler's mistakes fall on every pair alike. The same 24 rounds then give 0.774 / 0.761 instead of 0.724 / 0.715: how labelers disagree matters
as much as how often. Still short of 0.85, and the noiseless labeler's 0.837 / 0.805 bounds what this much data can
give.
Noise 0.4 is the setting at which the noisy labeler agrees with the noiseless one on ~72% of pairs (InstructGPT's
labelers: ~73%). With it the accuracy plateaus near 0.70 after ~70 steps (about 2,000 comparisons): more data and
epochs help the noiseless case (0.69 -> 0.84 with 24 rounds and 2 epochs) far more than the noisy one (0.72 on the
same 24 rounds). The issue's target, 0.85 against the
noiseless labeler, is not reached; the reward model generalises from 885 training prompts to new ones only so far
(train accuracy 0.95 against validation 0.80, noiseless). These accuracies are over comparisons sampled at
temperatures 0.5 to 2, many of them an answer against gibberish; on the SFT model's own temperature-1 samples, where
PPO searches, the same reward models rank far worse (benchmarks/reward_for_ppo.py). Nor is it the backbone's size:
on a 6 x 192 base and SFT model, better at everything they were measured on, the reward model ranks as the 4 x 128
one does (0.837 / 0.756, and 0.858 on fresh samples for the training prompts, whose comparisons it learned).

InstructGPT's batching claim (--rounds 1 --epochs 2 --shuffled --seeds 0 1 2; 758 prompts, 5,584 pairs), validation K-wise loss against the noisy rankings / pairwise accuracy against the noiseless labeler:

    seed  batching              lowest loss (epoch)  loss at 1 epoch  loss at 2  accuracy at 2  test accuracy
    0     a prompt per element  0.683 (1.3)          0.686            0.694      0.680          0.691
    0     pairs shuffled        0.689 (0.5)          0.734            0.813      0.680          0.648
    1     a prompt per element  0.687 (1.1)          0.687            0.719      0.661          0.630
    1     pairs shuffled        0.711 (0.25)         0.830            0.887      0.667          0.660
    2     a prompt per element  0.674 (1.1)          0.674            0.680      0.634          0.617
    2     pairs shuffled        0.672 (0.25)         0.777            0.839      0.660          0.607

The shuffled pairs overfit within the first epoch, as InstructGPT reported: their validation loss is lowest at a
quarter to half an epoch and climbs after, while a prompt per batch element stays near its best. Ranking accuracy
hardly differs. Shuffled, each response goes through the model once per pair it is in: 11,168 forward passes an
epoch against 2,960.
"""
import argparse
import json
import random
import time

import torch

from minigpt import tinyworld, zoo
from minigpt.reward import (Comparison, RewardData, RewardModel, gold_pairs, pairwise_accuracy, reward_batch,
                            reward_loss, train_reward_model)
from minigpt.sft import set_dropout


@torch.no_grad()
def kwise_loss(rm, tok, comparisons, batch_size=32):
    """The K-wise ranking loss over every comparison, one prompt per batch element, whatever the training batching:
    the one validation loss that both ways of batching can be compared on."""
    groups = RewardData(comparisons, comparisons, tok, rm.gpt.config.block_size, batch_size).splits["val"]
    rm.eval()
    total = 0.0
    for start in range(0, len(groups), batch_size):
        chunk = groups[start : start + batch_size]
        idx, lengths = reward_batch([seq for group in chunk for seq in group])
        total += reward_loss(rm, (idx, lengths, torch.tensor([len(g) for g in chunk]))).item() * len(chunk)
    rm.train()
    return total / len(groups)


def accuracy_by_kind(rm, tok, comparisons, gold):
    """{instruction kind: pairwise accuracy against gold} over comparisons: which rules the reward model misses.
    Kinds whose comparisons hold no pair that gold scores apart are left out."""
    by_kind = {}
    for c in comparisons:
        by_kind.setdefault(gold.instruction(c.prompt).kind, []).append(c)
    return {kind: round(pairwise_accuracy(rm, tok, group, gold), 3) for kind, group in sorted(by_kind.items())
            if any(gold_pairs(gold, c.prompt, c.responses) for c in group)}


def without_ties(comparisons, gold, seed=0):
    """Each comparison with one response kept of every group that the noiseless labeler scores equal (chosen at
    random), in the comparison's own order: only the pairs that gold orders are left to learn from. Comparisons
    left with one response are dropped."""
    rng, kept = random.Random(seed), []
    for c in comparisons:
        groups = {}
        for i in c.ranking:
            groups.setdefault(round(gold.gold_score(c.prompt, c.responses[i]), 6), []).append(i)
        chosen = {rng.choice(group) for group in groups.values()}
        order = [i for i in c.ranking if i in chosen]
        if len(order) >= 2:
            kept.append(Comparison(c.prompt, [c.responses[i] for i in order], list(range(len(order)))))
    return kept


def sft_model(base=None):
    """The shipped SFT model, or the SFT recipe on another base model: `base` holds the changes to the base recipe
    (max_iters, text_chars, n_layer, n_head, n_embd), trained now or taken from the cache."""
    if not base:
        return zoo.load("sft", progress=False)[0]
    recipe = {**zoo.sft_recipe(), "base": {**zoo.base_recipe(), **base}}
    return zoo.cached_run(recipe, lambda r: zoo.SHIPPED["sft"].train(r, True), name="sft")[0]


def run(rounds, epochs, noise, learning_rate, batch_size, grouped, seed, data_cache, careless=0.0,
        temperatures=(0.5, 1.0, 1.5, 2.0), by_kind=False, base=None, ties="labeler"):
    tok = zoo.tokenizer(chat=True)
    splits = tinyworld.instructions(seed=0)
    gold = tinyworld.GoldLabeler(splits)
    noisy = tinyworld.GoldLabeler(splits, noise=noise, careless=careless, seed=1 + seed)
    key = (rounds, noise, careless, seed)
    options = {"temperatures": tuple(temperatures)}
    if key not in data_cache:  # the same comparisons for both ways of batching
        sft = sft_model(base)
        data_cache[key] = {"train": zoo.comparisons(sft, "train", noisy, rounds, progress=True, **options),
                           "validation": zoo.comparisons(sft, "validation", noisy, **options),
                           "test": zoo.comparisons(sft, "test", noisy, **options)}
    data = data_cache[key]
    if ties == "drop":
        data = {**data, "train": without_ties(data["train"], gold, seed)}
    sft = sft_model(base)
    torch.manual_seed(seed)
    rm = RewardModel(set_dropout(sft, 0.0), tok)
    curve = []

    def on_eval(trainer):
        curve.append({"step": trainer.iter, "epoch": round(trainer.iter / steps_per_epoch, 2),
                      "val K-wise loss": round(kwise_loss(trainer.model, tok, data["validation"]), 4),
                      "val accuracy": round(pairwise_accuracy(trainer.model, tok, data["validation"], gold), 4)})
        return {"val accuracy": curve[-1]["val accuracy"]}

    pairs = sum(len(c.responses) * (len(c.responses) - 1) // 2 for c in data["train"])
    steps_per_epoch = max(1, (len(data["train"]) if grouped else pairs) // batch_size)
    start = time.perf_counter()
    train_reward_model(rm, tok, data, epochs, learning_rate, batch_size, grouped, seed, on_eval, 4, progress=True)
    result = {"rounds": rounds, "epochs": epochs, "ties": ties, "noise": noise, "careless": careless,
              "lr": learning_rate, "temperatures": list(temperatures), "grouped": grouped, "seed": seed,
              "seconds": round(time.perf_counter() - start), "curve": curve, "val accuracy": curve[-1]["val accuracy"],
              "test accuracy": round(pairwise_accuracy(rm, tok, data["test"], gold), 4)}
    if by_kind:  # fresh samples for the training prompts too: is a miss a new prompt, or a rule not learned?
        sft = sft_model(base)
        fresh = zoo.comparisons(sft, "train", gold, seed=99, **options)
        result["by kind"] = {"validation": accuracy_by_kind(rm, tok, data["validation"], gold),
                             "train, fresh samples": accuracy_by_kind(rm, tok, fresh, gold),
                             "train, fresh samples, all": round(pairwise_accuracy(rm, tok, fresh, gold), 4)}
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--epochs", type=float, default=1)
    parser.add_argument("--noise", type=float, default=zoo.RM_NOISE)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--careless", type=float, default=0.0, help="the share of rankings the labeler makes at random "
                        "(use with --noise 0)")
    parser.add_argument("--temperatures", type=float, nargs="+", default=[0.5, 1.0, 1.5, 2.0])
    parser.add_argument("--by-kind", action="store_true", help="pairwise accuracy by instruction kind, on the "
                        "validation comparisons and on fresh samples for the training prompts")
    parser.add_argument("--base-iters", type=int, help="an SFT model on a base pre-trained this many steps")
    parser.add_argument("--base-shape", type=int, nargs=2, metavar=("N_LAYER", "N_EMBD"), help="... on a base of this "
                        "shape (heads of 32 dimensions, as the shipped base's)")
    parser.add_argument("--text-chars", type=int, help="... pre-trained on this many characters of TinyWorld text "
                        "(the shipped base: 1,500,000)")
    parser.add_argument("--ties", choices=["labeler", "drop"], default="labeler", help="drop: learn only from the "
                        "pairs the noiseless labeler scores apart (one response kept of every equal-scored group), "
                        "where the labeler otherwise ranks equal scores by length")
    parser.add_argument("--shuffled", action="store_true", help="also train on the pairs shuffled as separate examples")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--out", help="write the results as JSON here")
    args = parser.parse_args()
    base = {"max_iters": args.base_iters, "text_chars": args.text_chars}
    if args.base_shape:
        base.update(n_layer=args.base_shape[0], n_embd=args.base_shape[1], n_head=args.base_shape[1] // 32)
    base = {key: value for key, value in base.items() if value is not None}
    results, data_cache = [], {}
    for seed in args.seeds:
        for grouped in (True, False) if args.shuffled else (True,):
            result = run(args.rounds, args.epochs, args.noise, args.lr, args.batch_size, grouped, seed, data_cache,
                         args.careless, args.temperatures, args.by_kind, base, args.ties)
            results.append(result)
            print(json.dumps({k: v for k, v in result.items() if k != "curve"}))
            for point in result["curve"]:
                print("   ", point)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
