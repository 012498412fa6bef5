"""Checkpoints: written atomically, loaded safely.

A checkpoint is a dict of tensors and plain Python data (numbers, strings, lists, dicts), saved with
torch.save. Loading uses torch.load(weights_only=True), which refuses any pickle that would import or
call code, so a checkpoint from a stranger cannot run anything on your machine.
"""
import os
import pickle
import tempfile
from pathlib import Path

import torch

from .model import GPT, GPTConfig

CHECKPOINT_NAME = "checkpoint.pt"


def save_checkpoint(state, path):
    """Write `state` to `path` atomically: to a temporary file first, then renamed over the target,
    so an interrupted save never leaves a half-written checkpoint behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def load_checkpoint(path, map_location="cpu"):
    """Load a checkpoint file (or the checkpoint.pt inside a directory) without running any code."""
    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT_NAME
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {str(path)!r}; train one first (python -m minigpt train ...)")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        raise ValueError(
            f"refusing to load {str(path)!r}: it contains Python objects other than tensors and plain data, "
            "and unpickling them could run arbitrary code. minigpt only loads weights-only checkpoints; "
            f"if you wrote this file yourself and trust it, re-save its tensors. (torch said: {err})"
        ) from None


def check_compatible(model, saved_config):
    """Raise a clear error when a checkpoint's model configuration differs from `model`'s."""
    ours = model.config.to_dict()
    diffs = [f"{k}={saved_config.get(k)!r} (model has {v!r})" for k, v in ours.items() if saved_config.get(k) != v]
    if diffs:
        raise ValueError(
            "this checkpoint was saved from a differently shaped model: " + ", ".join(diffs)
            + ". Build the model from the checkpoint's own configuration instead, e.g. minigpt.load_model(path)."
        )


def load_model(path, device="cpu"):
    """A GPT rebuilt from a checkpoint's configuration and weights, in eval mode."""
    state = load_checkpoint(path, map_location=device)
    model = GPT(GPTConfig.from_dict(state["model_config"]))
    model.load_state_dict(state["model"])
    return model.to(device).eval()
