"""One small training loop for every stage of the course: pretraining, SFT, the reward model.

    trainer = Trainer(model, data, TrainConfig(max_iters=500))
    history = trainer.run()

`data` is anything with a `get_batch(split, generator)` method ("train" or "val"), and `loss_fn(model,
batch)` turns a batch into a scalar loss (by default a next-token language-model loss on (x, y)).
The loop does AdamW with weight decay on matrices only, linear warmup then cosine decay of the
learning rate, gradient-norm clipping, periodic evaluation on fixed batches, a progress bar, a
history for plots, and checkpoints from which training resumes exactly (bit for bit).
"""
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from .checkpoint import CHECKPOINT_NAME, check_compatible, load_checkpoint, save_checkpoint


@dataclass
class TrainConfig:
    max_iters: int = 1000
    learning_rate: float = 1e-3  # the peak, reached at the end of warmup
    min_lr: float = 1e-4  # where the cosine decay ends, at max_iters
    warmup_iters: int = 100
    weight_decay: float = 0.1  # on weight matrices and embeddings; never on biases or LayerNorm gains
    beta1: float = 0.9
    beta2: float = 0.99
    grad_clip: float = 1.0  # clip the global gradient norm to this (0 turns clipping off)
    eval_interval: int = 100  # evaluate (and checkpoint, if checkpoint_dir is set) every this many steps
    eval_iters: int = 20  # batches per evaluation; the same batches every time, so curves are comparable
    seed: int = 1337
    checkpoint_dir: str = None
    progress: bool = True  # show a progress bar
    log: bool = None  # print a line after each evaluation; None: only when the progress bar is shown

    def __post_init__(self):
        for name in ("max_iters", "eval_interval", "eval_iters"):
            if getattr(self, name) < 1:
                raise ValueError(f"TrainConfig: {name}={getattr(self, name)} must be at least 1")
        if self.warmup_iters < 0 or self.learning_rate <= 0 or self.min_lr < 0:
            raise ValueError("TrainConfig: warmup_iters, learning_rate and min_lr must be non-negative (lr > 0)")


def learning_rate_at(it, config):
    """Linear warmup from 0 to learning_rate over warmup_iters, then cosine decay to min_lr at max_iters."""
    if it < config.warmup_iters:
        return config.learning_rate * (it + 1) / config.warmup_iters
    if it >= config.max_iters:
        return config.min_lr
    progress = (it - config.warmup_iters) / max(1, config.max_iters - config.warmup_iters)  # 0 -> 1
    return config.min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (config.learning_rate - config.min_lr)


def make_optimizer(model, config):
    """AdamW with two parameter groups: weight decay for tensors with 2+ dimensions (matmul weights,
    embeddings), none for biases and LayerNorm parameters."""
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=config.learning_rate, betas=(config.beta1, config.beta2), fused=fusable(params))


def fusable(params):
    """Whether torch's fused Adam/AdamW kernel (one kernel for all tensors, not a loop per tensor) can take these."""
    return all(p.device.type in ("cpu", "cuda") for p in params)


def lm_loss(model, batch):
    """The language-model loss on a batch (x, y): mean of -log P(y_t | x_<=t)."""
    x, y = batch
    _, loss = model(x, y)
    return loss


@torch.no_grad()
def validation_loss(model, tokens, block_size=None, batch_size=64):
    """The mean next-token loss on held-out text, the same number for the same model every time (unlike an estimate
    from random batches). tokens: a text's token ids, cut into consecutive non-overlapping windows of block_size
    (the model's by default); or fixed windows, a (n, T + 1) tensor whose rows are predicted one by one."""
    tokens = torch.as_tensor(tokens, dtype=torch.long)
    if tokens.dim() == 1:
        block_size = block_size or model.config.block_size
        n = (len(tokens) - 1) // block_size
        if n < 1:
            raise ValueError(f"the text has {len(tokens)} tokens; one window needs block_size + 1 = {block_size + 1}")
        x = tokens[: n * block_size].view(n, block_size)  # (n, T)
        y = tokens[1 : n * block_size + 1].view(n, block_size)  # (n, T): each x's next tokens
    else:
        x, y = tokens[:, :-1], tokens[:, 1:]
    was_training = model.training
    model.eval()
    total = 0.0
    for start in range(0, len(x), batch_size):
        logits, _ = model(x[start : start + batch_size])
        total += F.cross_entropy(logits.flatten(0, 1), y[start : start + batch_size].flatten(), reduction="sum").item()
    model.train(was_training)
    return total / y.numel()


class Trainer:
    """Trains `model` on `data` (an LMData, or anything with get_batch(split, generator)) by `loss_fn`.

    on_eval: an optional function called as on_eval(trainer) after each evaluation, to measure more
    than the loss (a zero-shot accuracy, say); a dict of numbers it returns is added to the log line.
    """

    def __init__(self, model, data, config=None, *, loss_fn=lm_loss, on_eval=None):
        self.model, self.data, self.loss_fn, self.on_eval = model, data, loss_fn, on_eval
        self.config = config or TrainConfig()
        self.optimizer = make_optimizer(model, self.config)
        torch.manual_seed(self.config.seed)  # dropout draws from the global generator
        self.batch_generator = torch.Generator().manual_seed(self.config.seed)
        self.iter = 0  # steps done so far
        self.history = {"iter": [], "loss": [], "lr": [], "eval_iter": [], "train_loss": [], "val_loss": []}
        self.elapsed = 0.0  # seconds spent in run(), over all calls and resumes
        self.interrupted = False

    @torch.no_grad()
    def evaluate(self):
        """Mean loss over eval_iters fixed batches of each split: {"train": ..., "val": ...}."""
        was_training = self.model.training
        self.model.eval()
        losses = {}
        for split in ("train", "val"):
            generator = torch.Generator().manual_seed(self.config.seed + 1)  # the same batches each time
            total = sum(self.loss_fn(self.model, self.data.get_batch(split, generator)).item()
                        for _ in range(self.config.eval_iters))
            losses[split] = total / self.config.eval_iters
        self.model.train(was_training)
        return losses

    def step(self):
        """One optimisation step; returns the training loss of its batch."""
        lr = learning_rate_at(self.iter, self.config)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        loss = self.loss_fn(self.model, self.data.get_batch("train", self.batch_generator))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.config.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        self.optimizer.step()
        self.iter += 1
        self.history["iter"].append(self.iter)
        self.history["loss"].append(loss.item())
        self.history["lr"].append(lr)
        return self.history["loss"][-1]

    def run(self, until=None):
        """Train from the current step to `until` (default: config.max_iters); returns the history.

        Ctrl-C (or the notebook's stop button) ends the run cleanly: the model keeps what it learned,
        a checkpoint is written when checkpoint_dir is set, and run() can be called again to go on.
        """
        until = self.config.max_iters if until is None else until
        self.model.train()
        self.interrupted = False
        # One refresh a second: in Jupyter every refresh is a few widget messages, and a long cell that sends
        # thousands of them overflows the kernel's message queue (nbval then loses the end of the cell).
        bar = tqdm(total=until, initial=self.iter, desc="training", disable=not self.config.progress, unit="step",
                   mininterval=1.0)
        start = time.perf_counter()
        try:
            while self.iter < until:
                loss = self.step()
                bar.update(1)
                bar.set_postfix(loss=f"{loss:.3f}", refresh=False)
                if self.iter % self.config.eval_interval == 0 or self.iter == until:
                    self._evaluate_and_log(bar, start)
                    if self.config.checkpoint_dir:
                        self.save()
        except KeyboardInterrupt:
            self.interrupted = True
            where = f"; checkpoint saved to {self.save()}" if self.config.checkpoint_dir else ""
            bar.write(f"interrupted at step {self.iter}{where}. Call run() again to continue.")
        finally:
            self.elapsed += time.perf_counter() - start
            bar.close()
        return self.history

    def _evaluate_and_log(self, bar, start):
        losses = self.evaluate()
        h = self.history
        h["eval_iter"].append(self.iter)
        h["train_loss"].append(losses["train"])
        h["val_loss"].append(losses["val"])
        seconds = self.elapsed + time.perf_counter() - start
        message = f"step {self.iter:5d}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f} ({seconds:.1f} s)"
        extra = self.on_eval(self) if self.on_eval else None
        if extra:
            message += "".join(f", {name} {value:.3f}" for name, value in extra.items())
        log = self.config.progress if self.config.log is None else self.config.log
        if log:
            bar.write(message)  # tqdm.write: printed above the bar, or plainly when the bar is off

    def state_dict(self):
        return {
            "format": "minigpt-checkpoint-1",
            "model_config": self.model.config.to_dict(),  # for a wrapper (classifier, reward model): its GPT's
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "train_config": asdict(self.config),
            "iter": self.iter,
            "elapsed": self.elapsed,
            "history": self.history,
            "rng": {"torch": torch.get_rng_state(), "batches": self.batch_generator.get_state()},
        }

    def load_state_dict(self, state):
        check_compatible(self.model, state["model_config"])
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.iter, self.elapsed, self.history = state["iter"], state["elapsed"], state["history"]
        torch.set_rng_state(state["rng"]["torch"])
        self.batch_generator.set_state(state["rng"]["batches"])

    def save(self, path=None):
        """Write a checkpoint (default: checkpoint_dir/checkpoint.pt) atomically; returns its path."""
        if path is None:
            if not self.config.checkpoint_dir:
                raise ValueError("no path given and TrainConfig.checkpoint_dir is not set")
            path = Path(self.config.checkpoint_dir) / CHECKPOINT_NAME
        save_checkpoint(self.state_dict(), path)
        return path

    def resume(self, path=None):
        """Load model, optimizer, step, history and random-number state from a checkpoint."""
        self.load_state_dict(load_checkpoint(path or self.config.checkpoint_dir))
        return self
