"""InstructGPT's step 1: supervised fine-tuning on demonstrations, with the loss on the response only.

Ouyang et al. (2022), section 3.5: a labeler writes the desired response to a prompt, and the pre-trained model
is fine-tuned on these demonstrations with supervised learning. The prompt is given; only the response is
learned, so the loss is the language-model loss over the response tokens R alone:

    L_SFT(θ) = -1/|R| Σ_{t ∈ R} log P_θ(u_t | u_<t)

Each demonstration is one chat (chat.py): the user's prompt, then the assistant's response and its
end-of-turn token. Targets outside R, and padding, are IGNORE_INDEX, which the model's loss skips.
"""
import torch

from .chat import encode_chat
from .model import IGNORE_INDEX, set_dropout
from .training import Trainer, TrainConfig


def demonstration_turns(demonstration):
    """The chat turns of a demonstration: an Instruction's prompt and response, or a Dialogue's turns and reply."""
    if hasattr(demonstration, "turns"):
        return [*demonstration.turns, ("assistant", demonstration.reply)]
    return [("user", demonstration.prompt), ("assistant", demonstration.response)]


def sft_example(tokenizer, prompt, response, block_size):
    """(ids, mask) of one demonstration (chat.encode_chat); a clear error when it does not fit the context."""
    return turns_example(tokenizer, [("user", prompt), ("assistant", response)], block_size)


def turns_example(tokenizer, turns, block_size):
    """(ids, mask) of a demonstration of any number of turns: the loss on every assistant turn (chat.encode_chat)."""
    ids, mask = encode_chat(tokenizer, turns)
    if len(ids) > block_size + 1:
        raise ValueError(f"the demonstration has {len(ids)} tokens but block_size is {block_size}: shorten the prompt "
                         f"or the response (it must fit in block_size + 1 tokens, the inputs and the last target)")
    return ids, mask


def sft_batch(examples, pad_id=0):
    """(x, y), both (B, T): inputs and next-token targets of right-padded (ids, mask) examples, where y is
    IGNORE_INDEX wherever the next token is not the response's (the prompt, the role markers, padding)."""
    T = max(len(ids) for ids, _ in examples) - 1
    x = torch.full((len(examples), T), pad_id, dtype=torch.long)
    y = torch.full((len(examples), T), IGNORE_INDEX, dtype=torch.long)
    for row, (ids, mask) in enumerate(examples):
        ids, mask = torch.tensor(ids), torch.tensor(mask, dtype=torch.bool)
        n = len(ids) - 1
        x[row, :n] = ids[:-1]
        y[row, :n] = torch.where(mask[1:], ids[1:], IGNORE_INDEX)  # position t predicts token t + 1
    return x, y


def sft_loss(model, batch):
    """L_SFT on a batch (x, y) from sft_batch: the mean next-token loss over the response tokens only."""
    x, y = batch
    _, loss = model(x, y)
    return loss


class SFTData:
    """Demonstrations as training batches, for the Trainer: get_batch(split, generator) -> (x, y) of sft_batch,
    batch_size demonstrations drawn at random from the split ("train" or "val")."""

    def __init__(self, train, val, batch_size, pad_id=0):
        if not train or not val:
            raise ValueError("SFTData needs demonstrations in both splits, train and val")
        self.splits, self.batch_size, self.pad_id = {"train": list(train), "val": list(val)}, batch_size, pad_id

    def get_batch(self, split, generator=None):
        examples = self.splits[split]
        rows = torch.randint(len(examples), (self.batch_size,), generator=generator)
        return sft_batch([examples[i] for i in rows.tolist()], self.pad_id)


def fine_tune(model, tokenizer, demonstrations, *, epochs=16, learning_rate=1e-3, dropout=0.2, batch_size=32, seed=0,
              on_epoch=None, progress=True):
    """InstructGPT's SFT recipe at tiny scale: `epochs` passes over demonstrations["train"] (Instructions, or
    Dialogues: the loss then falls on every assistant turn), cosine
    decay to a tenth of the learning rate, residual dropout; demonstrations["validation"] gives the validation loss.
    on_epoch(trainer) runs after every epoch (a dict of numbers it returns joins the log line). Returns the Trainer,
    whose model is left in eval mode."""
    block = model.config.block_size
    examples = {name: [turns_example(tokenizer, demonstration_turns(d), block) for d in demonstrations[name]]
                for name in ("train", "validation")}
    steps_per_epoch = max(1, len(examples["train"]) // batch_size)
    config = TrainConfig(max_iters=epochs * steps_per_epoch, learning_rate=learning_rate, min_lr=learning_rate / 10,
                         warmup_iters=10, eval_interval=steps_per_epoch, eval_iters=4, seed=seed, progress=progress)
    data = SFTData(examples["train"], examples["validation"], batch_size)
    trainer = Trainer(set_dropout(model, dropout), data, config, on_eval=on_epoch)
    trainer.run()
    model.eval()
    return trainer
