"""Is pre-training's benefit for fine-tuning larger than seed noise? (notebook 01's comparison, repeated)

Pre-trains notebook 01's GPT-1 on TinyWorld once, then fine-tunes it on the acceptability task, and the same
architecture from random weights, with L2 and with L3 = L2 + 0.5 L1, for several seeds. Prints held-out accuracy as
mean +- standard deviation over seeds, and the pre-trained models' lead per seed. About 3 minutes on 2 cores.

    python experiments/finetune_seeds.py [--seeds 5]

Conclusion: no run is recorded yet; experiments/results/finetune_seeds.md holds its table.
"""
import argparse
import copy
import statistics

import torch

import minigpt
from minigpt import tinyworld
from minigpt.finetune import SPECIAL_TOKENS, ClassificationData, accuracy, classification_input, fine_tune

import record_results


def pretrain():
    """Notebook 01's pre-training run: same corpus, model and schedule."""
    text = tinyworld.generate_corpus(seed=0)
    tokenizer = minigpt.CharTokenizer.from_text(text, special_tokens=SPECIAL_TOKENS)
    torch.manual_seed(0)
    config = minigpt.GPTConfig(vocab_size=tokenizer.vocab_size, block_size=64, n_layer=4, n_head=4, n_embd=128,
                               pre_ln=False)
    model = minigpt.GPT(config)
    data = minigpt.LMData(torch.tensor(tokenizer.encode(text)), block_size=64, batch_size=16)
    train_config = minigpt.TrainConfig(max_iters=1200, learning_rate=2e-3, min_lr=2e-4, warmup_iters=100,
                                       eval_interval=1200, eval_iters=10, progress=False)
    history = minigpt.Trainer(model, data, train_config).run()
    print(f"pre-trained: validation loss {history['val_loss'][-1]:.3f}")
    return model, tokenizer


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    record_results.add_options(parser)
    args = parser.parse_args(argv)
    model, tokenizer = pretrain()
    task = tinyworld.acceptability(seed=1)
    start, extract = tokenizer.encode("<start>")[0], tokenizer.encode("<extract>")[0]

    def encode(rows):
        return [(classification_input(tokenizer.encode(s), start, extract), label) for s, label in rows]

    labelled = ClassificationData(encode(task.train), encode(task.test), batch_size=32)
    results = {}
    for seed in range(args.seeds):
        for start_from in ("pre-trained", "random init"):
            for lm_weight in (0.0, 0.5):
                config = minigpt.TrainConfig(max_iters=150, learning_rate=3e-4, min_lr=3e-5, warmup_iters=10,
                                             eval_interval=150, eval_iters=4, progress=False, seed=seed)
                torch.manual_seed(seed)
                gpt = copy.deepcopy(model) if start_from == "pre-trained" else minigpt.GPT(model.config)
                classifier, _ = fine_tune(gpt, labelled, n_classes=2, lm_weight=lm_weight, config=config)
                results.setdefault((start_from, lm_weight), []).append(accuracy(classifier, labelled, "val"))
        print(f"seed {seed} done", flush=True)

    print(f"\nheld-out accuracy over {args.seeds} seeds (chance 0.5)")
    row = {"options": record_results.options(argv), "seeds": args.seeds}
    for (start_from, lm_weight), accs in results.items():
        cell = f"{statistics.mean(accs):.3f} +- {statistics.stdev(accs):.3f}"
        print(f"  {start_from:>11}, lambda={lm_weight}: {cell}   (min {min(accs):.3f}, max {max(accs):.3f})")
        row[f"{start_from}, lambda {lm_weight}"] = f"{cell} ({min(accs):.3f}, {max(accs):.3f})"
    gaps = [(p0 + p5 - r0 - r5) / 2 for p0, p5, r0, r5 in zip(*results.values())]
    cell = f"{statistics.mean(gaps):.3f} +- {statistics.stdev(gaps):.3f}"
    print(f"  pre-trained minus random init, per seed: {cell}   (min {min(gaps):.3f})")
    row["pre-trained minus random init, per seed (min)"] = f"{cell} ({min(gaps):.3f})"
    record_results.record(__file__, [row], args)


if __name__ == "__main__":
    main()
