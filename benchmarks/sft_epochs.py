"""InstructGPT's SFT at tiny scale, per epoch: does the gold score keep improving after validation loss stops?

InstructGPT trained its SFT models for 16 epochs with residual dropout 0.2 and cosine decay; validation loss
showed overfitting after one epoch, while more epochs kept improving the reward model's score and human
preference. This script fine-tunes the shipped base model (zoo.load("base")) on TinyWorld's instructions with
that recipe and prints, after every epoch, the validation loss and the gold labeler's mean score and form rate
on the validation prompts (greedy replies); at the end the same on the test prompts, and the base model's.

    python benchmarks/sft_epochs.py --seeds 0 1          # about 70 s per seed at 38 ms/step on `make bench`
"""
import argparse

from minigpt import tinyworld, zoo
from minigpt.sft import fine_tune


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs", type=int, default=16)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args(argv)
    splits = tinyworld.instructions(seed=0)
    labeler = tinyworld.GoldLabeler(splits)
    for seed in args.seeds:
        model, _ = zoo.load("base", progress=False)
        if seed == args.seeds[0]:
            print("base model, test prompts: gold %.3f, in form %.3f" % zoo.judge_replies(model, splits["test"], labeler))

        def per_epoch(trainer):
            gold, form = zoo.judge_replies(trainer.model, splits["validation"], labeler)
            epoch = trainer.iter // trainer.config.eval_interval
            print(f"seed {seed} epoch {epoch:2d}: val loss {trainer.history['val_loss'][-1]:.3f}, "
                  f"gold {gold:.3f}, in form {form:.3f}", flush=True)

        trainer = fine_tune(model, zoo.tokenizer(chat=True), splits, args.epochs, args.learning_rate, args.dropout,
                            args.batch_size, seed, on_epoch=per_epoch, progress=False)
        gold, form = zoo.judge_replies(model, splits["test"], labeler)
        print(f"seed {seed}: SFT on the test prompts: gold {gold:.3f}, in form {form:.3f} ({trainer.elapsed:.0f} s)",
              flush=True)


if __name__ == "__main__":
    main()
