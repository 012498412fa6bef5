"""When do induction heads and in-context recall form? (the question notebook 03 depends on)

Trains a small GPT-2-style model and, every --eval-every steps, prints: loss (the training loss, mean of the last 50
steps); ind (the best head's induction score on repeated blocks of common tokens, 1 = perfect); s<k> (lex mappings
defined in the context, after k demonstrations; chance 0.25 at k = 0); recall (8 demonstrations, only where copying
the last value shown would be wrong). The "variant" options train on other texts, each with its own BPE.

    python experiments/induction_formation.py                     # TinyWorld text, 2 layers x 64, batch 64 x 64
    python experiments/induction_formation.py --data repeats      # the positive control: repeated random blocks
    python experiments/induction_formation.py --max-iters 6000 --eval-every 500 --query any

Conclusion (experiments/results/induction_formation.md): on repeated random blocks an induction head forms by step
500 (at lr 1e-3 and 2e-3 for every batch order tried, at 3e-3 not for all). On TinyWorld text key matching forms only
between steps 3,000 and 4,000 of a 6,000-step schedule, not on a 3,000-step one, and no variant of the text (nor one
layer) formed it sooner: too long for a notebook, so notebook 03 loads models trained once by `make models`.
"""
import argparse
import random
import time

import torch

from minigpt import GPT, BPETokenizer, GPTConfig, LMData, Trainer, TrainConfig, tinyworld, zoo
from minigpt.tinyworld.mapping import ARROW, KEYS_PER_LINE, PAIRS_PER_LINE, lex_line, nonsense_keys
from minigpt.incontext import RepeatedBlocks, common_tokens, induction_head_scores, repeated_random_tokens
from minigpt.prompting import accuracy

import record_results


def recall_examples(n_examples=200, seed=0, **lex_format):
    """8-shot lex queries whose answer is not the value shown last: copying the latest value is wrong."""
    examples = tinyworld.context_mapping_task(seed=seed, n_pairs=8, n_examples=4 * n_examples, **lex_format)
    kept = [ex for ex in examples if not ex.prompt.rsplit(",", 1)[0].endswith(ex.answer.strip())]
    return kept[:n_examples]


def variant_text(shares, keys, arrow, keys_per_line=KEYS_PER_LINE, pairs_per_line=PAIRS_PER_LINE, seed=0):
    """TinyWorld's prose with its lex paragraphs replaced by paragraphs of context-defined lines; shares gives
    the share of the characters for each kind of line:
      lex    lex lines in the given format, with keys_per_line and pairs_per_line (ranges) as asked
      echo   "say: bim taf wop. again: bim taf wop."  (the second half can be copied from the first)
      chant  "chant: bim taf bim taf bim taf ..."     (2-8 keys repeated to about 24 words)"""
    rng = random.Random(seed)
    prose = [p for p in tinyworld.generate_corpus(seed=seed).split("\n\n") if not p.startswith("lex:")]
    prose_share = 1 - sum(shares.values())
    if prose_share <= 0:
        raise ValueError(f"the shares {shares} leave no room for TinyWorld's prose")

    def lex():
        return lex_line(rng, keys, arrow=arrow, keys_per_line=keys_per_line, pairs_per_line=pairs_per_line)

    def echo():
        words = " ".join(rng.choice(keys) for _ in range(rng.randint(3, 8)))
        return f"say: {words}. again: {words}."

    def chant():
        period = [rng.choice(keys) for _ in range(rng.randint(2, 8))]
        return "chant: " + " ".join(period * max(2, 24 // len(period))) + "."

    line_makers = {"lex": lex, "echo": echo, "chant": chant}
    mixed, prose_chars = list(prose), sum(len(p) + 2 for p in prose)
    for kind, share in shares.items():
        chars = 0
        while chars < share / prose_share * prose_chars:
            mixed.append("\n".join(line_makers[kind]() for _ in range(rng.randint(3, 6))))
            chars += len(mixed[-1]) + 2
    rng.shuffle(mixed)
    return "\n\n".join(mixed) + "\n"


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
    parser.add_argument("--seed", type=int, default=0, help="the model's initialisation")
    parser.add_argument("--batch-seed", type=int, default=1337, help="the order of the batches (TrainConfig's seed)")
    parser.add_argument("--query", choices=("shown", "any"), default="shown",
                        help="s<k> asks about a key the demonstrations showed, or about any key of the mapping")
    variant = parser.add_argument_group("a variant of TinyWorld (any of these: its own text and BPE)")
    variant_options = [  # what decides the text: any of them changed builds a variant
        variant.add_argument("--lex-share", type=float, help="share of the characters in lex lines (TinyWorld: 0.16)"),
        variant.add_argument("--echo-share", type=float, default=0.0, help="share of the characters in echo lines"),
        variant.add_argument("--chant-share", type=float, default=0.0, help="share of the characters in chant lines"),
        variant.add_argument("--keys-per-line", type=int, nargs=2, default=KEYS_PER_LINE, metavar=("MIN", "MAX")),
        variant.add_argument("--pairs-per-line", type=int, nargs=2, default=PAIRS_PER_LINE, metavar=("MIN", "MAX")),
        variant.add_argument("--no-arrow", action="store_true", help='lex pairs written "bim red", not "bim -> red"'),
        variant.add_argument("--keys", type=int, help="draw lex keys from this many made-up words (single BPE tokens)"),
    ]
    record_results.add_options(parser)
    args = parser.parse_args(argv)

    keys, arrow = list(nonsense_keys()), " " if args.no_arrow else ARROW
    if args.keys:
        keys = random.Random(0).sample(keys, args.keys)
    as_given = lambda value: tuple(value) if isinstance(value, list) else value  # noqa: E731 (nargs=2 gives lists)
    if any(as_given(getattr(args, a.dest)) != a.default for a in variant_options):
        if args.data != "tinyworld":
            parser.error("the variant options change the TinyWorld text; they do not apply to --data repeats")
        lex_share = 0.16 if args.lex_share is None else args.lex_share
        shares = {"lex": lex_share, "echo": args.echo_share, "chant": args.chant_share}
        text = variant_text(shares, keys, arrow, keys_per_line=args.keys_per_line, pairs_per_line=args.pairs_per_line)
        tokenizer = BPETokenizer().train(text, 1024)
        print(f"variant text: {len(text):,} characters, {tinyworld.corpus_stats(text)['lex_fraction']:.0%} in lex "
              f"lines; the key {keys[0]!r} is {len(tokenizer.encode(' ' + keys[0]))} token(s)", flush=True)
    else:
        text, tokenizer = tinyworld.generate_corpus(seed=0), zoo.tokenizer()
    train_ids = torch.tensor(tokenizer.encode(text))
    if args.data == "tinyworld":
        data = LMData(train_ids, args.block_size, args.batch_size)
        probe_ids = common_tokens(train_ids, tokenizer.vocab_size, min_count=200)
    else:
        data = RepeatedBlocks(tokenizer.vocab_size, args.block_size, args.batch_size)
        probe_ids = torch.arange(tokenizer.vocab_size)
    probe = repeated_random_tokens(16, min(24, args.block_size // 2), probe_ids, seed=1)
    lex_format = {"keys": keys, "arrow": arrow}
    lex = {k: tinyworld.context_mapping_task(seed=1, n_pairs=k, n_examples=200, query=args.query, **lex_format)
           for k in (0, 1, 2, 4, 8)}
    recall = recall_examples(**lex_format)
    curve = []

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
        curve.append({"step": trainer.iter, "tokens": tokens, **row})

    torch.manual_seed(args.seed)
    model = GPT(GPTConfig(vocab_size=tokenizer.vocab_size, block_size=args.block_size, n_layer=args.n_layer,
                          n_head=args.n_head, n_embd=args.n_embd))
    config = TrainConfig(max_iters=args.max_iters, learning_rate=args.learning_rate, min_lr=args.learning_rate / 10,
                         warmup_iters=100, eval_interval=args.eval_every, eval_iters=2, seed=args.batch_seed,
                         progress=False)
    start = time.perf_counter()
    Trainer(model, data, config, on_eval=measure).run()
    if curve:
        last = curve[-1]
        record_results.record(__file__, [{
            "options": record_results.options(argv), "seconds": f"{time.perf_counter() - start:.0f}",
            "at the end": f"step {last['step']} ({last['tokens'] / 1e6:.1f}M tokens): "
                          + " ".join(f"{k} {v:.2f}" for k, v in last.items() if k not in ("step", "tokens")),
            "ind (/ recall) by step": ", ".join(
                f"{point['step']}: {point['ind']:.2f}" + (f" / {point['recall']:.2f}" if "recall" in point else "")
                for point in curve)}], args)


if __name__ == "__main__":
    main()
