"""Issue 30's first measurement: a family of character-level GPTs on the long-tailed world (tinyworld.longtail),
their validation loss against the exactly computed floor, and whether L - L_inf = a C^(-b) with L_inf fixed at the
floor, fitted to the family, predicts a bigger run.

Each run: 2 layers, head size 8, context 128, batch 8, D = --tokens-per-parameter x N characters of fresh text
(N: the non-embedding parameters), AdamW at learning rate --lr-scale / width, warm-up over a tenth, cosine to a
tenth. Validation: --val-lines lines of another seed, each read after a newline (so the floor is exact): the loss,
the floor, the share of facts whose value the model gives at least even odds, by frequency bucket of the people.

    python experiments/longtail_scaling.py --widths 32 48 64 --predict 96 192
"""
import argparse
import json
import math
import time

import torch
import torch.nn.functional as F

from minigpt.data import LMData
from minigpt.model import GPT, IGNORE_INDEX, GPTConfig, parameter_count
from minigpt.scaling import fit_line, training_flops
from minigpt.tinyworld.longtail import LongTailWorld
from minigpt.tokenizers import CharTokenizer
from minigpt.training import TrainConfig, Trainer

import record_results

BUCKETS = ((0, 100), (100, 1000), (1000, 10_000), (10_000, None))


def char_tokenizer():
    return CharTokenizer(sorted(set("abcdefghijklmnopqrstuvwxyz ,.\n")))


@torch.no_grad()
def line_losses(model, tok, world, lines):
    """Per line: (nats of the whole line and its newline, [nats of each fact's value]) with the line read after a
    newline."""
    model.eval()
    results = []
    for start in range(0, len(lines), 256):
        chunk = lines[start : start + 256]
        encoded = [tok.encode("\n" + line + "\n") for _, line in chunk]
        width = max(map(len, encoded))
        x = torch.zeros(len(chunk), width - 1, dtype=torch.long)
        y = torch.full((len(chunk), width - 1), IGNORE_INDEX, dtype=torch.long)
        for i, ids in enumerate(encoded):
            x[i, : len(ids) - 1] = torch.tensor(ids[:-1])
            y[i, : len(ids) - 1] = torch.tensor(ids[1:])
        logits, _ = model(x)
        nll = F.cross_entropy(logits.flatten(0, 1), y.flatten(), ignore_index=IGNORE_INDEX, reduction="none")
        nll = nll.view(y.shape)
        for i, (person, line) in enumerate(chunk):
            spans, at = [], 0
            for value in world.facts[person].values():  # nll[i, t] is the loss of predicting line[t]
                at = line.index(f" {value}", at) + 1
                spans.append(nll[i, at : at + len(value)].sum().item())
                at += len(value)
            results.append((nll[i, : len(line) + 1].sum().item(), spans))
    return results


def evaluate(model, tok, world, lines):
    losses = line_losses(model, tok, world, lines)
    chars = sum(len(line) + 1 for _, line in lines)
    figures = {"loss": sum(total for total, _ in losses) / chars}
    for lo, hi in BUCKETS:
        known = [s < math.log(2) for (person, _), (_, spans) in zip(lines, losses)
                 if person >= lo and (hi is None or person < hi) for s in spans]
        figures[f"facts known {lo}-{hi or ''}"] = sum(known) / max(1, len(known))
    return figures


def run(width, args, world, tok, val_lines):
    torch.manual_seed(0)
    config = GPTConfig(vocab_size=len(tok.chars), block_size=128, n_layer=args.layers, n_head=width // 8,
                       n_embd=width)
    model = GPT(config)
    n = parameter_count(model, embeddings=False)
    tokens = args.tokens_per_parameter * n
    steps = max(20, round(tokens / (8 * 128)))
    text = world.text(round(steps * 8 * 128 * 1.15 / 96) + 2000, seed=1)
    data = LMData(tok.encode(text), 128, 8, val_fraction=0.02)
    lr = args.lr_scale / width
    trainer = Trainer(model, data, TrainConfig(max_iters=steps, learning_rate=lr, min_lr=lr / 10,
                                               warmup_iters=steps // 10, eval_interval=steps, eval_iters=1,
                                               seed=0, progress=False))
    start = time.perf_counter()
    trainer.run()
    seconds = time.perf_counter() - start
    compute = training_flops(config, steps * 8 * 128)  # every matmul: 6 N D undercounts the small widths most
    figures = {"width": width, "N": n, "D": steps * 8 * 128, "C": compute, "seconds": round(seconds, 1),
               **evaluate(model, tok, world, val_lines)}
    print(json.dumps(figures), flush=True)
    return figures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--exponent", type=float, default=1.0)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--widths", type=int, nargs="+", default=[32, 48, 64])
    parser.add_argument("--predict", type=int, nargs="*", default=[])
    parser.add_argument("--tokens-per-parameter", type=float, default=20)
    parser.add_argument("--lr-scale", type=float, default=0.64)
    parser.add_argument("--val-lines", type=int, default=3000)
    parser.add_argument("--fit-from", type=int, default=0, help="fit the law to the family's widths from this one")
    parser.add_argument("--out")
    record_results.add_options(parser)
    args = parser.parse_args(argv)
    world, tok = LongTailWorld(people=args.people, exponent=args.exponent), char_tokenizer()
    val_lines = world.lines(args.val_lines, seed=2023)
    floor = world.floor(val_lines)
    print(json.dumps({"floor": floor, "entropy per line": world.entropy()}), flush=True)
    family = [run(w, args, world, tok, val_lines) for w in args.widths]
    fitted = [f for f in family if f["width"] >= args.fit_from]
    largest = max(f["C"] for f in fitted)
    a, b = fit_line([f["C"] for f in fitted], [f["loss"] for f in fitted], floor)  # L - floor = a C^-b

    def row(f, role):
        return {"width": f["width"], "N": f["N"], "C": f"{f['C']:.2e}", "loss": round(f["loss"], 4),
                "floor": round(floor, 4), "role": role, "seconds": f["seconds"],
                **{k: round(v, 3) for k, v in f.items() if k.startswith("facts")}}

    rows = [row(f, "family" if f["width"] >= args.fit_from else "not fitted") for f in family]
    for w in args.predict:
        f = run(w, args, world, tok, val_lines)
        excess_hat = a * f["C"] ** -b
        loss_hat = floor + excess_hat
        rows.append(row(f, f"x{f['C'] / largest:.0f}: predicted {loss_hat:.4f} ({loss_hat / f['loss'] - 1:+.1%}), "
                           f"excess {excess_hat / (f['loss'] - floor) - 1:+.1%}"))
    print(f"fit: L - {floor:.4f} = {a:.3g} C^-{b:.3f}")
    for row in rows:
        print(row)
    record_results.record(__file__, [{"options": record_results.options(argv), **row} for row in rows], args)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
