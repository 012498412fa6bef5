"""Text in, batches out: load a text file, split it, and cut random training windows from it."""
from pathlib import Path

import torch


def load_text(path):
    """Read a UTF-8 text file, with errors that say what to do."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"text file {str(path)!r} does not exist (looked in {path.resolve().parent})")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(
            f"{str(path)!r} is not UTF-8 text (byte {err.start} cannot be decoded); "
            "convert it first, e.g. `iconv -f latin1 -t utf-8`"
        ) from None
    if not text.strip():
        raise ValueError(f"{str(path)!r} is empty; the model needs text to learn from")
    return text


class LMData:
    """Token ids split into train/validation, served as random (x, y) windows for next-token training.

    A batch is batch_size windows of block_size + 1 consecutive tokens; x is the first block_size of
    each window and y the same window shifted left by one, so y[b, t] is the token after x[b, :t+1].
    """

    def __init__(self, tokens, block_size, batch_size, *, val_fraction=0.1, device="cpu"):
        tokens = torch.as_tensor(tokens, dtype=torch.long)
        if tokens.dim() != 1:
            raise ValueError(f"LMData expects a 1-D sequence of token ids, got shape {tuple(tokens.shape)}")
        if not 0.0 < val_fraction < 1.0:
            raise ValueError(f"val_fraction={val_fraction} must be between 0 and 1")
        n_val = int(len(tokens) * val_fraction)
        self.splits = {"train": tokens[: len(tokens) - n_val], "val": tokens[len(tokens) - n_val :]}
        for split, part in self.splits.items():
            if len(part) < block_size + 1:
                raise ValueError(
                    f"the {split} split has {len(part)} tokens but one example needs block_size + 1 = "
                    f"{block_size + 1}; use a longer text (this one has {len(tokens)} tokens in all) "
                    f"or a smaller block_size"
                )
        self.block_size, self.batch_size, self.device = block_size, batch_size, torch.device(device)

    def get_batch(self, split, generator=None):
        """Random windows from `split` ("train" or "val"): x, y both (batch_size, block_size)."""
        data = self.splits[split]
        starts = torch.randint(len(data) - self.block_size, (self.batch_size,), generator=generator)
        window = torch.arange(self.block_size + 1)
        chunks = data[starts[:, None] + window]  # (B, block_size + 1)
        x, y = chunks[:, :-1], chunks[:, 1:]
        return x.to(self.device), y.to(self.device)
