"""When do induction heads and in-context recall form? (the question notebook 03 depends on)

Trains a small GPT-2-style model and, every --eval-every steps, prints:
  loss    the training loss, mean of the last 50 steps
  ind     the best head's induction score on blocks of common training tokens repeated twice (1 = perfect)
  s<k>    accuracy on TinyWorld's context-defined lex mappings after k demonstrations, the query always a
          key the demonstrations showed (minigpt.tinyworld.context_mapping_task; chance 0.25 at k = 0)
  recall  the same after 8 demonstrations, only where copying the last value shown would be wrong, so that
          only matching the key helps (chance about 1/3: the other values shown)

    python benchmarks/induction_formation.py                       # TinyWorld text, 2 layers x 64, batch 64 x 64
    python benchmarks/induction_formation.py --data repeats        # the positive control: each window is one block
                                                                   # of random tokens repeated to fill it

What we measured (2 cores, 68 ms/step on `make bench`): with the repeats the loss falls from 6.8 to 2.5 and the
best head's induction score rises from 0.03 to 0.9 between steps 200 and 500 (1-2M tokens). On TinyWorld text
(lex lines are 16% of it), with --max-iters 6000 (measured with a draft of this script: the same training, its
own 200-question evaluation sets): copying a value from the line (s1) is learnt by step 500, but
matching the key (s8: 0.40 at step 1000, 0.62 at 2000, 0.90 at 3000) only forms between steps 2,000 and 3,000,
8 to 12M tokens, about four minutes on that machine; the induction score on repeated common tokens stayed at
0.01 throughout. Shorter runs (1,500 steps; a 37% lex share; learning rates 6e-3 and 1e-2; 32 channels for 3,000
steps) formed neither.
"""
import argparse
import time

import torch

from minigpt import GPT, GPTConfig, LMData, Trainer, TrainConfig, tinyworld, zoo
from minigpt.incontext import common_tokens, induction_head_scores, repeated_random_tokens
from minigpt.prompting import accuracy


class RepeatedBlocks:
    """Windows that are each one block of random tokens (period 5 to T/2) repeated to fill the window."""

    def __init__(self, vocab_size, block_size, batch_size):
        self.vocab_size, self.block_size, self.batch_size = vocab_size, block_size, batch_size

    def get_batch(self, split, generator):
        rows = []
        for _ in range(self.batch_size):
            period = int(torch.randint(5, self.block_size // 2, (1,), generator=generator))
            block = torch.randint(self.vocab_size, (period,), generator=generator)
            rows.append(block.repeat(self.block_size // period + 2)[: self.block_size + 1])
        seq = torch.stack(rows)
        return seq[:, :-1], seq[:, 1:]


def recall_examples(n_examples=200, seed=0):
    """8-shot lex queries whose answer is not the value shown last: copying the latest value is wrong."""
    examples = tinyworld.context_mapping_task(seed=seed, n_pairs=8, n_examples=4 * n_examples)
    kept = [ex for ex in examples if not ex.prompt.rsplit(",", 1)[0].endswith(ex.answer.strip())]
    return kept[:n_examples]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=("tinyworld", "repeats"), default="tinyworld")
    parser.add_argument("--n-layer", type=int, default=2)
    parser.add_argument("--n-head", type=int, default=4)
    parser.add_argument("--n-embd", type=int, default=64)
    parser.add_argument("--block-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-iters", type=int, default=2000)
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0, help="the model's initialisation (batches: TrainConfig's seed)")
    args = parser.parse_args(argv)

    tokenizer = zoo.tokenizer()
    train_ids = torch.tensor(tokenizer.encode(tinyworld.generate_corpus(seed=0)))
    if args.data == "tinyworld":
        data = LMData(train_ids, args.block_size, args.batch_size)
        probe_ids = common_tokens(train_ids, tokenizer.vocab_size, min_count=200)
    else:
        data = RepeatedBlocks(tokenizer.vocab_size, args.block_size, args.batch_size)
        probe_ids = torch.arange(tokenizer.vocab_size)
    probe = repeated_random_tokens(16, min(24, args.block_size // 2), probe_ids, seed=1)
    lex = {k: tinyworld.context_mapping_task(seed=1, n_pairs=k, n_examples=200) for k in (0, 1, 2, 4, 8)}
    recall = recall_examples()

    def measure(trainer):
        model = trainer.model
        recent = trainer.history["loss"][-50:]
        row = {"loss": sum(recent) / len(recent), "ind": induction_head_scores(model, probe).max().item()}
        if args.data == "tinyworld":
            row.update({f"s{k}": accuracy(model, tokenizer, examples) for k, examples in lex.items()})
            row["recall"] = accuracy(model, tokenizer, recall)
        tokens = trainer.iter * args.block_size * args.batch_size
        print(f"step {trainer.iter:5d} ({tokens / 1e6:5.1f}M tokens, {time.perf_counter() - start:5.0f} s): "
              + " ".join(f"{name} {value:.2f}" for name, value in row.items()), flush=True)

    torch.manual_seed(args.seed)
    model = GPT(GPTConfig(vocab_size=tokenizer.vocab_size, block_size=args.block_size, n_layer=args.n_layer,
                          n_head=args.n_head, n_embd=args.n_embd))
    config = TrainConfig(max_iters=args.max_iters, learning_rate=args.learning_rate, min_lr=args.learning_rate / 10,
                         warmup_iters=100, eval_interval=args.eval_every, eval_iters=2, progress=False)
    start = time.perf_counter()
    Trainer(model, data, config, on_eval=measure).run()


if __name__ == "__main__":
    main()
