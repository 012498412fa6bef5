"""Command line: train a small GPT on any text file, and sample from it.

    python -m minigpt train --text input.txt --out runs/shakespeare
    python -m minigpt sample --checkpoint runs/shakespeare --prompt "ROMEO:"
    python -m minigpt chat                                # talk to the course's chat model (pipe a script in too)
    python -m minigpt grade returned/*/ --out grades      # instructors: grade returned exercise notebooks
"""
import argparse
import contextlib
import sys
import time
from pathlib import Path

import torch

from .checkpoint import load_checkpoint, load_model
from .data import LMData, load_text
from .device import pick_device
from .model import GPT, GPTConfig, parameter_count
from .tokenizers import BPETokenizer, CharTokenizer, load_tokenizer
from .training import Trainer, TrainConfig


# `minigpt train`'s defaults, for a text of about a megabyte on a 2-core laptop (chosen by experiment: see the
# README's command line section); the library's own defaults (GPTConfig, TrainConfig) are the course's.
TRAIN_MODEL_DEFAULTS = {"block_size": 64, "n_layer": 2, "n_head": 4, "n_embd": 128}
TRAIN_DEFAULTS = {"max_iters": 3000, "warmup_iters": 50, "eval_interval": 250, "eval_iters": 20, "seed": 1337,
                  "learning_rate": 3e-3, "min_lr": 1e-4, "weight_decay": 0.1, "grad_clip": 1.0}
TRAIN_HELP = {"block_size": "the context: the most tokens the model sees at once", "n_layer": "transformer blocks",
              "n_head": "attention heads (n-embd must be a multiple)", "n_embd": "the width of the residual stream",
              "max_iters": "training steps", "warmup_iters": "steps of linear learning-rate warmup",
              "eval_interval": "evaluate and checkpoint every this many steps",
              "eval_iters": "batches of each split per evaluation", "seed": "for the weights and the batches",
              "learning_rate": "the peak, after warmup; cosine decay to min-lr at max-iters",
              "min_lr": "the learning rate at the end", "weight_decay": "AdamW's, on weight matrices and embeddings",
              "grad_clip": "clip the gradient norm to this (0: off)"}


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m minigpt", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser(
        "train", help="train a model on a text file",
        description="Train a small GPT on a text file. The defaults are for a text of about a megabyte on a laptop's "
        "2 cores: a 2-layer, 128-wide character model with nanoGPT's choices (exact GELU, no biases), 3,000 steps of "
        "12 x 64 characters at a peak learning rate of 3e-3, about 45 s at bench_ms 30. On Debian's fortunes (1 MB) "
        "it reaches a validation loss of 1.77 nats per character, where nanoGPT's CPU recipe (4 x 128, 2,000 steps "
        "at 1e-3) reaches 1.95 in 70 s. A larger text or more patience: raise --max-iters, then --n-layer.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    train.add_argument("--text", required=True, help="a UTF-8 text file to learn from")
    train.add_argument("--out", required=True, help="directory for the checkpoint and tokenizer")
    train.add_argument("--tokenizer", choices=["char", "bpe"], default="char")
    train.add_argument("--vocab-size", type=int, default=512, help="BPE vocabulary size (with --tokenizer bpe)")
    for name, value in TRAIN_MODEL_DEFAULTS.items():
        train.add_argument("--" + name.replace("_", "-"), type=int, default=value, help=TRAIN_HELP[name])
    train.add_argument("--dropout", type=float, default=0.0, help="dropout probability (0 for short runs)")
    train.add_argument("--bias", action=argparse.BooleanOptionalAction, default=False,
                       help="biases in the Linear layers and LayerNorms, as in GPT-2 (the course's models have them)")
    train.add_argument("--activation", choices=["gelu", "gelu_tanh"], default="gelu",
                       help="the exact (erf) GELU, faster to train on a CPU, or GPT-2's tanh approximation")
    train.add_argument("--post-ln", action="store_true", help="GPT-1's post-LayerNorm blocks instead of GPT-2's pre-LN")
    train.add_argument("--batch-size", type=int, default=12, help="windows of block-size tokens per step")
    for name, value in TRAIN_DEFAULTS.items():
        train.add_argument("--" + name.replace("_", "-"), type=type(value), default=value, help=TRAIN_HELP[name])
    train.add_argument("--device", default=None, help="cpu, cuda or mps (None: the best available)")
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

    chat = commands.add_parser("chat", help="chat with a model in the terminal, or pipe a conversation in")
    chat.add_argument("--model", default=CHAT_MODEL, help="a shipped model's name (default: %(default)s), a model "
                      "folder as make models writes them, or the --out directory of `minigpt train`")
    chat.add_argument("--temperature", type=float, default=0.7, help="0 means greedy")
    chat.add_argument("--max-new-tokens", type=int, default=48)
    chat.add_argument("--seed", type=int, default=0)

    grade = commands.add_parser("grade", help="grade returned exercise notebooks (see minigpt/grading.py)")
    grade.add_argument("submissions", nargs="+", help="notebooks (one per student: alice.ipynb) or folders "
                       "(one per student, holding exercises under their released names)")
    grade.add_argument("--out", default="grades", help="where the gradebook, feedback and executed notebooks go")
    grade.add_argument("--timeout", type=int, default=300, help="seconds each notebook may run")
    grade.add_argument("--exercises", default=None, help="the released exercises (default: exercises/)")
    grade.add_argument("--jobs", type=int, default=1, help="submissions run at once, each in its own kernel "
                       "(at most the number of cores: the time limit is wall-clock time)")
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
                                 n_head=args.n_head, n_embd=args.n_embd, dropout=args.dropout, pre_ln=not args.post_ln,
                                 bias=args.bias, activation=args.activation)
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
          f"{parameter_count(model) / 1e6:.2f}M parameters, device {device}")
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


CHAT_MODEL = "chat-sft"  # the course's chat model so far: SFT on dialogues (ChatGPT's step 1), until RLHF's ships
CHAT_COMMANDS = {"/reset": "start a new conversation", "/temperature T": "sample at temperature T (0: greedy)",
                 "/quit": "leave (so do Ctrl-D and Ctrl-C)"}


def load_chat_model(spec):
    """(model, tokenizer) for `minigpt chat`: a shipped model by name, a model folder, or a training run's folder."""
    from .cache import CONFIG, SHIPPED_DIR, WEIGHTS, load_model_dir
    from .course_tokenizer import tokenizer

    shipped = sorted(p.name for p in SHIPPED_DIR.iterdir() if (p / WEIGHTS).is_file())
    folder = SHIPPED_DIR / spec if spec in shipped else Path(spec)
    with contextlib.redirect_stdout(sys.stderr):  # loading messages stay out of a piped transcript
        if not folder.is_dir():
            raise ValueError(f"no shipped model named {spec!r} and no folder there; the shipped models are "
                             f"{', '.join(shipped)}, or give a model's folder")
        if (folder / WEIGHTS).is_file() and (folder / CONFIG).is_file():
            return load_model_dir(folder)[0], tokenizer(chat=True)
        if (folder / "checkpoint.pt").is_file():
            return load_model(folder), load_tokenizer(folder)
    raise ValueError(f"{folder} holds no model: neither a model folder ({WEIGHTS}, {CONFIG}) nor a checkpoint of "
                     "`minigpt train` (checkpoint.pt)")


def chat_command(session, line):
    """Run a slash command; the answer to print."""
    name, *rest = line.split()
    if name == "/reset":
        session.reset()
        return "(a new conversation)"
    if name == "/temperature":
        try:
            temperature = float(rest[0]) if len(rest) == 1 else -1.0
        except ValueError:
            temperature = -1.0
        if temperature < 0:
            return "usage: /temperature T, with T a number >= 0 (0 is greedy)"
        session.temperature = temperature
        return f"(temperature {temperature:g})"
    listing = "; ".join(f"{command}: {what}" for command, what in CHAT_COMMANDS.items())
    return f"unknown command {name}; the commands are {listing}"


def chat(args):
    from .chat import Conversation

    model, tokenizer = load_chat_model(args.model)
    session = Conversation(model, tokenizer, temperature=args.temperature, max_new_tokens=args.max_new_tokens,
                           seed=args.seed)
    piped = not sys.stdin.isatty()
    if hasattr(sys.stdin, "reconfigure"):  # Python may read undecodable bytes as stand-ins (surrogateescape): refuse them
        sys.stdin.reconfigure(encoding="utf-8", errors="strict")
    print(f"chatting with {args.model} (a {model.config.block_size}-token context); " +
          ", ".join(CHAT_COMMANDS) + "; Ctrl-D leaves")
    try:
        while True:
            line = sys.stdin.readline() if piped else input("you> ")
            if piped and not line:
                break
            line = line.strip()
            if piped:
                print(f"you> {line}")
            if line == "/quit":
                break
            if line.startswith("/"):
                print(chat_command(session, line))
            elif line:
                chat_turn(session, line)
    except EOFError:  # Ctrl-D at the prompt
        print()
    except KeyboardInterrupt:
        print()
    except UnicodeDecodeError as err:
        raise ValueError(f"standard input is not UTF-8 text (byte {err.object[err.start:err.start + 1]!r} at "
                         f"position {err.start}); save the conversation as UTF-8") from None
    print("bye.")
    return 0


def chat_turn(session, line):
    """One exchange: the reply printed as it is written, then a note if old turns were dropped for room."""
    started = False

    def show(piece):
        nonlocal started
        print(piece if started else "assistant> " + piece.lstrip(), end="", flush=True)  # turns start with a space
        started = True

    try:
        reply, dropped = session.say(line, on_text=show)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return
    print("" if started else f"assistant> {reply}")
    if dropped:
        print(f"(the conversation outgrew the {session.model.config.block_size}-token context: its oldest {dropped} "
              "turns were dropped)")


def grade(args):
    from .grading import VERDICTS, grade as grade_submissions

    verdicts = grade_submissions(args.submissions, out=args.out, timeout=args.timeout, exercises=args.exercises,
                                 jobs=args.jobs)
    for student in sorted({v.student for v in verdicts}):
        mine = [v for v in verdicts if v.student == student]
        counts = ", ".join(f"{sum(v.verdict == kind for v in mine)} {kind}" for kind in VERDICTS)
        print(f"{student:<16} {sum(v.points for v in mine):>3} of {len(mine):<3} ({counts})")
    print(f"gradebook: {Path(args.out) / 'gradebook.csv'}; feedback: {Path(args.out) / 'feedback'}")
    return 0


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return {"train": train, "sample": sample, "chat": chat, "grade": grade}[args.command](args)
    except (ValueError, FileNotFoundError) as err:  # mistakes in the input: say what, not where in torch
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
