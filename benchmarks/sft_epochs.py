"""InstructGPT's SFT at tiny scale, per epoch: does the gold score keep improving after validation loss stops?

InstructGPT trained its SFT models for 16 epochs with residual dropout 0.2 and cosine decay; validation loss
showed overfitting after one epoch, while more epochs kept improving the reward model's score and human
preference. This script fine-tunes the shipped base model (zoo.load("base")) on TinyWorld's instructions with
that recipe and prints, after every epoch, the validation loss and the gold labeler's mean score and form rate
on the validation prompts (greedy replies); at the end the same on the test prompts, and the base model's.

    python benchmarks/sft_epochs.py --seeds 0 1          # about 70 s per seed at 38 ms/step on `make bench`
"""
import argparse
import time

from minigpt import Trainer, TrainConfig, tinyworld, zoo
from minigpt.chat import respond
from minigpt.sft import SFTData, set_dropout, sft_example


def judge(model, tokenizer, labeler, items):
    """(mean gold score, share of replies in the requested form) of the model's greedy replies."""
    replies = respond(model, tokenizer, [[("user", i.prompt)] for i in items], max_new_tokens=40, temperature=0.0)
    rules = [labeler.rules(i, r) for i, r in zip(items, replies)]
    scores = [labeler.gold_score(i, r) for i, r in zip(items, replies)]
    return sum(scores) / len(scores), sum(r["form"] for r in rules) / len(rules)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs", type=int, default=16)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args(argv)
    tokenizer, splits = zoo.tokenizer(chat=True), tinyworld.instructions(seed=0)
    labeler = tinyworld.GoldLabeler(splits)
    for seed in args.seeds:
        model, _ = zoo.load("base", progress=False)
        if seed == args.seeds[0]:
            print("base model, test prompts: gold %.3f, in form %.3f" % judge(model, tokenizer, labeler, splits["test"]))
        examples = {name: [sft_example(tokenizer, i.prompt, i.response, model.config.block_size) for i in splits[name]]
                    for name in ("train", "validation")}
        steps_per_epoch = len(examples["train"]) // args.batch_size
        data = SFTData(examples["train"], examples["validation"], args.batch_size)

        def per_epoch(trainer):
            gold, form = judge(trainer.model, tokenizer, labeler, splits["validation"])
            print(f"seed {seed} epoch {trainer.iter // steps_per_epoch:2d}: val loss {trainer.history['val_loss'][-1]:.3f}, "
                  f"gold {gold:.3f}, in form {form:.3f}", flush=True)

        config = TrainConfig(max_iters=args.epochs * steps_per_epoch, learning_rate=args.learning_rate,
                             min_lr=args.learning_rate / 10, warmup_iters=10, eval_interval=steps_per_epoch, eval_iters=4,
                             seed=seed, progress=False)
        start = time.perf_counter()
        Trainer(set_dropout(model, args.dropout), data, config, on_eval=per_epoch).run()
        gold, form = judge(model, tokenizer, labeler, splits["test"])
        print(f"seed {seed}: SFT on the test prompts: gold {gold:.3f}, in form {form:.3f} "
              f"({time.perf_counter() - start:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
