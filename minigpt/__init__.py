"""minigpt: a tiny, readable GPT library, from GPT-1 pretraining to ChatGPT-style RLHF, on a laptop CPU."""
from . import incontext, prompting, tinyworld
from .checkpoint import load_checkpoint, load_model, save_checkpoint
from .corpus import download_text
from .data import LMData, load_text
from .device import pick_device
from .model import (GPT, GPTConfig, KVCache, attention_maps, causal_attention, induction_scores, parameter_count,
                    sample_next_token, set_dropout)
from .pretrained import load_gpt2
from .report import report
from .tokenizers import BPETokenizer, CharTokenizer, load_tokenizer
from .training import Trainer, TrainConfig, learning_rate_at, lm_loss, make_optimizer, validation_loss

__version__ = "0.1.0"

__all__ = [
    "BPETokenizer", "CharTokenizer", "GPT", "GPTConfig", "KVCache", "LMData", "TrainConfig", "Trainer", "attention_maps",
    "causal_attention", "download_text", "incontext", "induction_scores", "learning_rate_at", "lm_loss",
    "load_checkpoint", "load_gpt2", "load_model", "load_text", "load_tokenizer", "make_optimizer", "parameter_count",
    "pick_device", "prompting", "report", "sample_next_token", "save_checkpoint", "set_dropout", "tinyworld",
    "validation_loss",
]
