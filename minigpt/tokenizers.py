"""Tokenizers: text <-> lists of integer token ids.

CharTokenizer gives each distinct character of a text one id; it is the simplest tokenizer that
works, and it cannot encode a character it never saw. BPETokenizer (in bpe.py) is GPT-2's byte-level
BPE: it encodes any text, and common words become single tokens.

Both have encode, decode, vocab_size, save, to_dict / from_dict; load_tokenizer(directory) reads
back whichever of the two was saved there.
"""
import json
import re
from collections import Counter
from pathlib import Path

from .bpe import BPETokenizer, as_token_ids

__all__ = ["BPETokenizer", "CharTokenizer", "load_tokenizer"]


class CharTokenizer:
    """One token per character, plus optional multi-character special tokens such as "<|endoftext|>".

    Ids 0..len(chars)-1 are the characters in the order given; the special tokens come after them.
    """

    def __init__(self, chars, special_tokens=()):
        self.chars = list(chars)
        self.special_tokens = list(special_tokens)
        if not self.chars:
            raise ValueError("a CharTokenizer needs at least one character")
        for char in self.chars:
            if not isinstance(char, str) or len(char) != 1:
                raise ValueError(f"chars must be single characters, got {char!r}; "
                                 "put multi-character tokens in special_tokens")
        for special in self.special_tokens:
            if not isinstance(special, str) or not special:
                raise ValueError(f"special tokens must be non-empty strings, got {special!r}")
        tokens = self.chars + self.special_tokens
        repeated = sorted(token for token, count in Counter(tokens).items() if count > 1)
        if repeated:
            raise ValueError(f"each character and special token may appear only once; repeated: {repeated}")
        self._stoi = {token: i for i, token in enumerate(tokens)}  # token text -> id
        self._itos = tokens  # id -> token text
        # Longest first, so that a special token wins over a shorter one that is its prefix.
        specials = sorted(self.special_tokens, key=len, reverse=True)
        self._special_split = re.compile("(" + "|".join(map(re.escape, specials)) + ")") if specials else None

    @classmethod
    def from_text(cls, text, special_tokens=()):
        """The vocabulary is the sorted distinct characters of `text`, then `special_tokens`."""
        if not text:
            raise ValueError("cannot build a character vocabulary from empty text")
        return cls(sorted(set(text)), special_tokens)

    def encode(self, text):
        """Text -> ids: each special token (wherever it occurs) is one id, every other character one id."""
        pieces = self._special_split.split(text) if self._special_split else [text]
        ids, position = [], 0
        for k, piece in enumerate(pieces):
            if k % 2 == 1:  # re.split with a (group) puts the separators, our special tokens, at odd places
                ids.append(self._stoi[piece])
            else:
                ids.extend(self._encode_characters(piece, position))
            position += len(piece)
        return ids

    def _encode_characters(self, text, position):
        try:
            return [self._stoi[char] for char in text]
        except KeyError:
            offset, char = next((k, c) for k, c in enumerate(text) if c not in self._stoi)
            raise ValueError(
                f"character {char!r} (U+{ord(char):04X}) at position {position + offset} is not in this tokenizer's "
                f"vocabulary of {len(self.chars)} characters; build the tokenizer from text that contains it "
                "(CharTokenizer.from_text) or use BPETokenizer, which can encode any text"
            ) from None

    def decode(self, ids):
        """Ids (a list or a 1-D tensor) -> text."""
        return "".join(self._itos[i] for i in as_token_ids(ids, self.vocab_size))

    @property
    def vocab_size(self):
        return len(self._itos)

    def __len__(self):
        return self.vocab_size

    def __repr__(self):
        shown = "".join(self.chars)
        shown = repr(shown) if len(shown) <= 40 else repr(shown[:40]) + "..."
        return f"CharTokenizer(vocab_size={self.vocab_size}, chars={shown}, special_tokens={self.special_tokens})"

    def to_dict(self):
        return {"type": "char", "chars": list(self.chars), "special_tokens": list(self.special_tokens)}

    @classmethod
    def from_dict(cls, d):
        if d.get("type") != "char":
            raise ValueError(f"expected a dict with type 'char' (from CharTokenizer.to_dict), "
                             f"got type {d.get('type')!r}")
        return cls(d["chars"], d.get("special_tokens", ()))

    def save(self, directory):
        """Write `directory`/tokenizer.json, creating the directory if needed."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.to_dict(), ensure_ascii=False, indent=1)
        (directory / "tokenizer.json").write_text(text, encoding="utf-8")


def load_tokenizer(directory):
    """The tokenizer saved in `directory`: a CharTokenizer (tokenizer.json with "type": "char") or a
    BPETokenizer (vocab.json + merges.txt)."""
    directory = Path(directory)
    char_file = directory / "tokenizer.json"
    vocab_file, merges_file = directory / "vocab.json", directory / "merges.txt"
    is_char = char_file.is_file() and json.loads(char_file.read_text(encoding="utf-8")).get("type") == "char"
    is_bpe = vocab_file.is_file() and merges_file.is_file()
    if is_char and is_bpe:
        raise ValueError(f"{directory} holds both a CharTokenizer (tokenizer.json) and a BPETokenizer "
                         "(vocab.json + merges.txt); delete the one the model was not trained with")
    if is_char:
        return CharTokenizer.from_dict(json.loads(char_file.read_text(encoding="utf-8")))
    if is_bpe:
        return BPETokenizer.from_pretrained(directory)
    raise ValueError(f"no tokenizer found in {directory}: looked for tokenizer.json with \"type\": \"char\" "
                     "(written by CharTokenizer.save) and for vocab.json + merges.txt (written by "
                     "BPETokenizer.save, or GPT-2's own files)")
