"""Command line: train a small GPT on any text file, and sample from it.

    python -m minigpt train --text input.txt --out runs/shakespeare
    python -m minigpt sample --checkpoint runs/shakespeare --prompt "ROMEO:"
    python -m minigpt grade returned/*/ --out grades      # instructors: grade returned exercise notebooks
"""
import argparse
import sys
import time
from pathlib import Path

import torch

from .checkpoint import load_checkpoint, load_model
from .data import LMData, load_text
from .device import pick_device
from .model import GPT, GPTConfig
from .tokenizers import BPETokenizer, CharTokenizer, load_tokenizer
from .training import Trainer, TrainConfig


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m minigpt", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a model on a text file")
    train.add_argument("--text", required=True, help="a UTF-8 text file to learn from")
    train.add_argument("--out", required=True, help="directory for the checkpoint and tokenizer")
    train.add_argument("--tokenizer", choices=["char", "bpe"], default="char")
    train.add_argument("--vocab-size", type=int, default=512, help="BPE vocabulary size (with --tokenizer bpe)")
    defaults = GPTConfig()
    for name in ("block_size", "n_layer", "n_head", "n_embd"):
        train.add_argument("--" + name.replace("_", "-"), type=int, default=getattr(defaults, name))
    train.add_argument("--dropout", type=float, default=0.0)
    train.add_argument("--post-ln", action="store_true", help="GPT-1's post-LayerNorm blocks instead of GPT-2's pre-LN")
    train.add_argument("--batch-size", type=int, default=12)
    tdefaults = TrainConfig()
    for name in ("max_iters", "warmup_iters", "eval_interval", "eval_iters", "seed"):
        train.add_argument("--" + name.replace("_", "-"), type=int, default=getattr(tdefaults, name))
    for name in ("learning_rate", "min_lr", "weight_decay", "grad_clip"):
        train.add_argument("--" + name.replace("_", "-"), type=float, default=getattr(tdefaults, name))
    train.add_argument("--device", default=None, help="cpu, cuda or mps (default: the best available)")
    train.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    train.add_argument("--no-progress", action="store_true", help="no progress bar, just the evaluation lines")

    sample = commands.add_parser("sample", help="generate text from a trained checkpoint")
    sample.add_argument("--checkpoint", required=True, help="the --out directory of a training run")
    sample.add_argument("--prompt", default="\n")
    sample.add_argument("--max-new-tokens", type=int, default=200)
    sample.add_argument("--temperature", type=float, default=0.8, help="0 means greedy")
    sample.add_argument("--top-k", type=int, default=None)
    sample.add_argument("--top-p", type=float, default=None)
    sample.add_argument("--num-samples", type=int, default=1)
    sample.add_argument("--seed", type=int, default=1337)
    sample.add_argument("--device", default=None)

    grade = commands.add_parser("grade", help="grade returned exercise notebooks (see minigpt/grading.py)")
    grade.add_argument("submissions", nargs="+", help="notebooks (one per student: alice.ipynb) or folders "
                       "(one per student, holding exercises under their released names)")
    grade.add_argument("--out", default="grades", help="where the gradebook, feedback and executed notebooks go")
    grade.add_argument("--timeout", type=int, default=300, help="seconds each notebook may run")
    grade.add_argument("--exercises", default=None, help="the released exercises (default: exercises/)")
    return parser


def train(args):
    text = load_text(args.text)
    out = Path(args.out)
    if args.resume:
        tokenizer = load_tokenizer(out)
    elif args.tokenizer == "char":
        tokenizer = CharTokenizer.from_text(text)
    else:
        print(f"training a byte-level BPE tokenizer with {args.vocab_size} tokens ...")
        tokenizer = BPETokenizer().train(text, args.vocab_size)
    device = pick_device(args.device)
    state = load_checkpoint(out, map_location=device) if args.resume else None
    if state is not None:  # the model's shape comes from the checkpoint, not from the command line
        model_config = GPTConfig.from_dict(state["model_config"])
    else:
        model_config = GPTConfig(vocab_size=tokenizer.vocab_size, block_size=args.block_size, n_layer=args.n_layer,
                                 n_head=args.n_head, n_embd=args.n_embd, dropout=args.dropout, pre_ln=not args.post_ln)
    data = LMData(tokenizer.encode(text), model_config.block_size, args.batch_size, device=device)
    torch.manual_seed(args.seed)
    model = GPT(model_config).to(device)
    config = TrainConfig(max_iters=args.max_iters, learning_rate=args.learning_rate, min_lr=args.min_lr,
                         warmup_iters=args.warmup_iters, weight_decay=args.weight_decay, grad_clip=args.grad_clip,
                         eval_interval=args.eval_interval, eval_iters=args.eval_iters, seed=args.seed,
                         checkpoint_dir=str(out), progress=not args.no_progress, log=True)
    trainer = Trainer(model, data, config)
    if state is not None:
        trainer.load_state_dict(state)
        print(f"resuming from step {trainer.iter}")
    tokenizer.save(out)
    n_tokens = sum(len(split) for split in data.splits.values())
    print(f"{n_tokens:,} tokens ({tokenizer.vocab_size} in the vocabulary), "
          f"{model.num_params() / 1e6:.2f}M parameters, device {device}")
    start = time.perf_counter()
    trainer.run()
    print(f"trained to step {trainer.iter} in {time.perf_counter() - start:.1f} s; checkpoint in {out}")
    return 130 if trainer.interrupted else 0


def sample(args):
    device = pick_device(args.device)
    tokenizer = load_tokenizer(args.checkpoint)
    model = load_model(args.checkpoint, device=device)
    ids = tokenizer.encode(args.prompt)
    if not ids:
        raise ValueError("the prompt is empty; give at least one character")
    idx = torch.tensor([ids] * args.num_samples, dtype=torch.long, device=device)
    generator = torch.Generator(device=device).manual_seed(args.seed)
    out = model.generate(idx, args.max_new_tokens, temperature=args.temperature, top_k=args.top_k,
                         top_p=args.top_p, generator=generator)
    for i, row in enumerate(out.tolist()):
        if args.num_samples > 1:
            print(f"--- sample {i + 1} ---")
        print(tokenizer.decode(row))
    return 0


def grade(args):
    from .grading import VERDICTS, grade as grade_submissions

    verdicts = grade_submissions(args.submissions, args.out, args.timeout, args.exercises)
    for student in sorted({v.student for v in verdicts}):
        mine = [v for v in verdicts if v.student == student]
        counts = ", ".join(f"{sum(v.verdict == kind for v in mine)} {kind}" for kind in VERDICTS)
        print(f"{student:<16} {sum(v.points for v in mine):>3} of {len(mine):<3} ({counts})")
    print(f"gradebook: {Path(args.out) / 'gradebook.csv'}; feedback: {Path(args.out) / 'feedback'}")
    return 0


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return {"train": train, "sample": sample, "grade": grade}[args.command](args)
    except (ValueError, FileNotFoundError) as err:  # mistakes in the input: say what, not where in torch
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
