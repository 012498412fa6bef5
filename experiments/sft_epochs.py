"""InstructGPT's SFT at tiny scale, per epoch: does the gold score keep improving after validation loss stops?

Fine-tunes the shipped base model (zoo.load("base")) on TinyWorld's instructions with InstructGPT's SFT recipe (16
epochs, residual dropout 0.2, cosine decay) and prints, after every epoch, the validation loss and the gold
labeler's mean score and form rate of the greedy replies to the validation prompts; at the end the same on the
test prompts. --rm adds the shipped reward model's mean score of those replies, and the epoch it would pick beside
the gold labeler's pick (InstructGPT chose its SFT model by its reward model's score).

    python experiments/sft_epochs.py --seeds 0 1          # about 70 s per seed at 38 ms/step on `make bench`
    python experiments/sft_epochs.py --rm                 # and the reward model's pick of an epoch

Conclusion (experiments/results/sft_epochs.md): the gold score keeps improving for all 16 epochs (validation 0.58 ->
0.90), and so does the validation loss: InstructGPT's overfitting after one epoch does not reproduce. The reward
model picks epoch 15 (gold 0.900), the gold labeler epoch 16 (gold 0.902).
"""
import argparse

from minigpt import tinyworld, zoo
from minigpt.reward import score_responses
from minigpt.sft import fine_tune

import record_results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs", type=int, default=16)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rm", action="store_true", help="score every epoch's replies with the shipped reward model")
    record_results.add_options(parser)
    args = parser.parse_args(argv)
    splits = tinyworld.instructions(seed=0)
    labeler = tinyworld.GoldLabeler(splits)
    rm = zoo.load("rm", progress=False)[0] if args.rm else None
    rows = []
    for seed in args.seeds:
        model, _ = zoo.load("base", progress=False)
        if seed == args.seeds[0]:
            base = zoo.judge_replies(model, splits["test"], labeler)
            print("base model, test prompts: gold %.3f, in form %.3f" % base)

        epochs = []

        def per_epoch(trainer):
            items = splits["validation"]
            replies = zoo.greedy_replies(trainer.model, items)
            gold, form = zoo.judge(replies, items, labeler)
            epoch = trainer.iter // trainer.config.eval_interval
            line = (f"seed {seed} epoch {epoch:2d}: val loss {trainer.history['val_loss'][-1]:.3f}, gold {gold:.3f}, "
                    f"in form {form:.3f}")
            reward = None
            if rm is not None:
                kept = [(i, r) for i, r in zip(items, replies) if r.replace("<|end|>", "").strip()]
                scores = score_responses(rm, zoo.tokenizer(chat=True), [i.prompt for i, _ in kept],
                                         [r for _, r in kept])
                reward = sum(scores) / len(scores)
                line += f", reward {reward:+.3f}"
            epochs.append((epoch, gold, reward))
            print(line, flush=True)

        trainer = fine_tune(model, zoo.tokenizer(chat=True), splits, epochs=args.epochs,
                            learning_rate=args.learning_rate, dropout=args.dropout, batch_size=args.batch_size,
                            seed=seed, on_epoch=per_epoch, progress=False)
        gold, form = zoo.judge_replies(model, splits["test"], labeler)
        print(f"seed {seed}: SFT on the test prompts: gold {gold:.3f}, in form {form:.3f} ({trainer.elapsed:.0f} s)",
              flush=True)
        row = {"options": record_results.options(argv), "seed": seed,
               "val loss at the end": f"{trainer.history['val_loss'][-1]:.3f}",
               "val gold, first -> last epoch": f"{epochs[0][1]:.3f} -> {epochs[-1][1]:.3f}",
               "test gold, base -> SFT": f"{base[0]:.3f} -> {gold:.3f}", "test in form": f"{form:.3f}",
               "val reward by epoch": "-", "RM's pick (gold)": "-", "gold's pick (gold)": "-",
               "seconds": f"{trainer.elapsed:.0f}"}
        if rm is not None:
            by_rm, by_gold = max(epochs, key=lambda e: e[2]), max(epochs, key=lambda e: e[1])
            print(f"seed {seed}: the reward model picks epoch {by_rm[0]} (gold {by_rm[1]:.3f} there); "
                  f"the gold labeler picks epoch {by_gold[0]} (gold {by_gold[1]:.3f})", flush=True)
            row.update({"val reward by epoch": " / ".join(f"{e[2]:+.3f}" for e in epochs),
                        "RM's pick (gold)": f"{by_rm[0]} ({by_rm[1]:.3f})",
                        "gold's pick (gold)": f"{by_gold[0]} ({by_gold[1]:.3f})"})
        rows.append(row)
    record_results.record(__file__, rows, args)


if __name__ == "__main__":
    main()
