"""The course's tokenizer: a byte-level BPE of 1,024 tokens trained on the TinyWorld text.

Every TinyWorld model of the course reads it (notebook 02's sizes, the shipped models, the exercise checkers,
`minigpt chat`); training it is deterministic and takes a few seconds, once per process:

    tok = tokenizer()            # notebooks 02, 03 and 08
    tok = tokenizer(chat=True)   # the second half: with the chat format's role markers and end-of-turn token
"""
from functools import lru_cache

from .bpe import BPETokenizer
from .chat import SPECIAL_TOKENS
from .tinyworld import generate_corpus


@lru_cache(maxsize=4)
def tokenizer(vocab_size=1024, corpus_seed=0, chat=False):
    """The byte-level BPE of these models, trained on the TinyWorld text (deterministic, a few seconds).
    chat=True adds the chat format's special tokens (role markers, end of turn), for the second half."""
    special_tokens = SPECIAL_TOKENS if chat else ("<|endoftext|>",)
    return BPETokenizer().train(generate_corpus(seed=corpus_seed), vocab_size, special_tokens=special_tokens)
