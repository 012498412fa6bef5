"""Byte-level BPE, the tokenizer of GPT-2.

Text is UTF-8 bytes, so 256 byte tokens can spell any string: nothing is ever "unknown".
Training starts from those 256 tokens and repeatedly glues the most frequent adjacent pair
of tokens into a new token (a "merge"): b"t" + b"h" -> b"th", then b"th" + b"e" -> b"the", ...
Encoding replays the learned merges, earliest-learned first, so frequent words end up as one token.

Two GPT-2 details:
- Text is first cut into chunks (words with their leading space, numbers, punctuation runs,
  whitespace) by a regular expression, and merges never cross a chunk boundary.
- In vocab.json and merges.txt every byte is written as a printable character (the space byte as
  'Ġ', newline as 'Ċ'), using GPT-2's bytes-to-unicode table below.
"""
import heapq
import json
import re
import warnings
from collections import Counter, defaultdict
from pathlib import Path

import regex
import torch

# GPT-2's pre-tokenisation pattern: contractions, letters, numbers, other symbols (each optionally
# after one space), then whitespace. `regex` (not `re`) is needed for the \p{L} / \p{N} classes.
GPT2_SPLIT_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
GPT2_SPLIT = regex.compile(GPT2_SPLIT_PATTERN)

GPT2_FILES_HINT = (
    "BPETokenizer.save writes both files; GPT-2's own are at https://huggingface.co/openai-community/gpt2 "
    "(OpenAI's original release calls them encoder.json and vocab.bpe)"
)


def bytes_to_unicode():
    """GPT-2's table {byte value: printable character} used in vocab.json and merges.txt.

    The 188 bytes that are already visible characters ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for
    themselves; the other 68 (control bytes, space, ...) get chr(256), chr(257), ... in byte order,
    which is why the space byte 32 shows as 'Ġ' = chr(288).
    """
    visible = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table = {b: chr(b) for b in visible}
    n_shifted = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + n_shifted)
            n_shifted += 1
    return table


BYTE_TO_CHAR = bytes_to_unicode()
CHAR_TO_BYTE = {char: b for b, char in BYTE_TO_CHAR.items()}


def to_printable(data: bytes) -> str:
    """b' the' -> 'Ġthe': a token's bytes as they are written in vocab.json and merges.txt."""
    return "".join(BYTE_TO_CHAR[b] for b in data)


def from_printable(text: str):
    """'Ġthe' -> b' the'; None if `text` has a character outside the table (a special token's text)."""
    if not all(char in CHAR_TO_BYTE for char in text):
        return None
    return bytes(CHAR_TO_BYTE[char] for char in text)


def merge_pair(ids, pair, new_id):
    """Replace each occurrence of `pair` in `ids`, left to right, by `new_id`.

    merge_pair([1, 2, 2, 2], (2, 2), 9) == [1, 9, 2]
    """
    merged, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and ids[i] == pair[0] and ids[i + 1] == pair[1]:
            merged.append(new_id)
            i += 2
        else:
            merged.append(ids[i])
            i += 1
    return merged


def as_token_ids(ids, vocab_size):
    """A list of ints from a list or a 1-D tensor of token ids, each checked to be in 0..vocab_size-1."""
    if isinstance(ids, torch.Tensor):
        if ids.dim() != 1:
            raise ValueError(f"decode expects a 1-D sequence of token ids, got a tensor of shape {tuple(ids.shape)}; "
                             "decode one row at a time, e.g. decode(ids[0])")
        ids = ids.tolist()
    ids = [int(i) for i in ids]
    for i in ids:
        if not 0 <= i < vocab_size:
            raise ValueError(f"token id {i} is out of range: this tokenizer has {vocab_size} tokens "
                             f"(ids 0..{vocab_size - 1})")
    return ids


class BPETokenizer:
    """GPT-2 style byte-level BPE: train it on text, or load GPT-2's vocab.json + merges.txt.

    Attributes a notebook can look at:
        vocab          {id: bytes} for every token, special tokens included (as their UTF-8 text)
        merges         [(left id, right id), ...] in rank order: merges[0] was learned first
        special_tokens {text: id}, e.g. {"<|endoftext|>": 1023}
        merge_history  [((left id, right id), new id, count), ...] filled by train(); empty after loading
    """

    def __init__(self):
        """A tokenizer with the 256 byte tokens (id = byte value) and no merges yet."""
        self._install({b: bytes([b]) for b in range(256)}, merges=[], merged_ids=[], special_tokens={})
        self.merge_history = []

    def _install(self, vocab, merges, merged_ids, special_tokens):
        """Set the tables that encode and decode read; merges[r] makes the token merged_ids[r]."""
        self.vocab = vocab
        self.merges = merges
        self.special_tokens = special_tokens
        special_ids = set(special_tokens.values())
        self._byte_ids = {data[0]: i for i, data in vocab.items() if len(data) == 1 and i not in special_ids}
        self._merge_rank = {}  # (left id, right id) -> rank; a lower rank was learned earlier and is applied first
        self._merge_id = {}  # (left id, right id) -> id of the merged token
        for rank, (pair, new_id) in enumerate(zip(merges, merged_ids)):
            self._merge_rank.setdefault(pair, rank)
            self._merge_id.setdefault(pair, new_id)
        # Longest first, so that "<|endoftext|>" wins over a special that is a prefix of it.
        specials = sorted(special_tokens, key=len, reverse=True)
        self._special_split = re.compile("(" + "|".join(map(re.escape, specials)) + ")") if specials else None
        self._cache = {}  # chunk text -> its token ids; most chunks (common words) repeat

    # --- training --------------------------------------------------------------------------------

    def train(self, text, vocab_size, special_tokens=("<|endoftext|>",), verbose=False):
        """Learn merges from `text` until there are `vocab_size` tokens (256 bytes + merges + specials).

        Each step merges the adjacent pair with the highest count over the whole text; a tie goes
        to the pair with the smaller ids, compared as (left id, right id). Merge i makes token 256 + i
        and the special tokens take the ids after the merges. Training always starts again from the
        256 byte tokens. Returns self, so `tok = BPETokenizer().train(text, 512)` works.
        """
        special_tokens = list(dict.fromkeys(special_tokens))  # drop repeats, keep order
        if any(not isinstance(s, str) or not s for s in special_tokens):
            raise ValueError(f"special tokens must be non-empty strings, got {special_tokens!r}")
        smallest = 256 + len(special_tokens)
        if vocab_size < smallest:
            raise ValueError(f"vocab_size={vocab_size} is too small: a byte-level BPE needs 256 byte tokens "
                             f"+ {len(special_tokens)} special token(s) = {smallest} tokens before any merge")
        if not text:
            raise ValueError("cannot train a BPE tokenizer on empty text; give it the text the model will learn from")
        chunk_counts = count_chunks(text, special_tokens)
        vocab = {b: bytes([b]) for b in range(256)}
        history = learn_merges(chunk_counts, vocab_size - smallest, vocab, verbose)
        if len(history) < vocab_size - smallest:
            warnings.warn(f"the text ran out of pairs to merge after {len(history)} merges, so the vocabulary has "
                          f"{smallest + len(history)} tokens instead of {vocab_size}; train on more text or ask "
                          "for a smaller vocab_size", stacklevel=2)
        specials = {s: len(vocab) + k for k, s in enumerate(special_tokens)}
        vocab.update({i: s.encode("utf-8") for s, i in specials.items()})
        self._install(vocab, [pair for pair, _, _ in history], [new_id for _, new_id, _ in history], specials)
        self.merge_history = history
        return self

    # --- encoding and decoding -------------------------------------------------------------------

    def encode(self, text):
        """Text -> token ids: special tokens first, then GPT-2's chunks, each chunk by BPE on its bytes."""
        pieces = self._special_split.split(text) if self._special_split else [text]
        ids = []
        for k, piece in enumerate(pieces):
            if k % 2 == 1:  # re.split with a (group) puts the separators, our special tokens, at odd places
                ids.append(self.special_tokens[piece])
            else:
                for chunk in GPT2_SPLIT.findall(piece):
                    ids.extend(self._encode_chunk(chunk))
        return ids

    def _encode_chunk(self, chunk):
        """GPT-2's BPE on one chunk: start from its bytes, apply the lowest-ranked merge present, repeat."""
        if chunk not in self._cache:
            ids = [self._byte_id(b) for b in chunk.encode("utf-8")]
            while len(ids) > 1:
                pair = min(zip(ids, ids[1:]), key=lambda p: self._merge_rank.get(p, float("inf")))
                if pair not in self._merge_rank:
                    break  # no adjacent pair was ever merged: done
                ids = merge_pair(ids, pair, self._merge_id[pair])
            self._cache[chunk] = ids
        return self._cache[chunk]

    def _byte_id(self, byte):
        if byte not in self._byte_ids:
            raise ValueError(f"byte {byte:#04x} has no token in this vocabulary, so this text cannot be encoded; "
                             "a byte-level vocabulary should contain all 256 bytes")
        return self._byte_ids[byte]

    def decode(self, ids):
        """Token ids (a list or a 1-D tensor) -> text. Bytes that are not valid UTF-8 (a character cut
        in half between tokens) become the replacement character U+FFFD rather than an error."""
        data = b"".join(self.vocab[i] for i in as_token_ids(ids, self.vocab_size))
        return data.decode("utf-8", errors="replace")

    def token_bytes(self, token_id):
        """The bytes of one token: token_bytes(tok.encode(" the")[0]) == b" the" after training."""
        return self.vocab[as_token_ids([token_id], self.vocab_size)[0]]

    def token_str(self, token_id):
        """One token as readable text; bytes that are only part of a character show as '\\xe2'."""
        return self.token_bytes(token_id).decode("utf-8", errors="backslashreplace")

    @property
    def vocab_size(self):
        return len(self.vocab)

    def __len__(self):
        return self.vocab_size

    def __repr__(self):
        return (f"BPETokenizer(vocab_size={self.vocab_size}, merges={len(self.merges)}, "
                f"special_tokens={list(self.special_tokens)})")

    # --- GPT-2's file format: vocab.json + merges.txt ---------------------------------------------

    def to_dict(self):
        """{"type": "bpe", "vocab": {printable token: id}, "merges": [[left, right], ...]}, as in GPT-2's files."""
        vocab = {}
        for i in sorted(self.vocab):
            key = self._special_text(i) or to_printable(self.vocab[i])
            if key in vocab:
                raise ValueError(f"special token {key!r} has the same text as an ordinary token; rename it")
            vocab[key] = i
        merges = [[to_printable(self.vocab[a]), to_printable(self.vocab[b])] for a, b in self.merges]
        return {"type": "bpe", "vocab": vocab, "merges": merges}

    def _special_text(self, token_id):
        return next((text for text, i in self.special_tokens.items() if i == token_id), None)

    @classmethod
    def from_dict(cls, d):
        if d.get("type") != "bpe":
            raise ValueError(f"expected a dict with type 'bpe' (from BPETokenizer.to_dict), got type {d.get('type')!r}")
        return cls._from_gpt2_tables(d["vocab"], [tuple(pair) for pair in d["merges"]], source="the dict")

    def save(self, directory):
        """Write vocab.json and merges.txt (GPT-2's format) into `directory`, creating it if needed."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        d = self.to_dict()
        (directory / "vocab.json").write_text(json.dumps(d["vocab"], ensure_ascii=False, indent=1), encoding="utf-8")
        lines = ["#version: 0.2"] + [f"{left} {right}" for left, right in d["merges"]]
        (directory / "merges.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")

    @classmethod
    def from_pretrained(cls, directory):
        """Read vocab.json + merges.txt: files from BPETokenizer.save, Hugging Face tokenizers, or GPT-2's own."""
        directory = Path(directory)
        vocab_path, merges_path = directory / "vocab.json", directory / "merges.txt"
        for path in (vocab_path, merges_path):
            if not path.is_file():
                raise FileNotFoundError(f"expected {path.name} at {path}, but it is not there; {GPT2_FILES_HINT}")
        try:
            vocab = json.loads(vocab_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise ValueError(f"{vocab_path} is not valid JSON ({err}); it should map token strings to ids") from None
        merges = []
        for number, line in enumerate(merges_path.read_text(encoding="utf-8").split("\n"), start=1):
            if (number == 1 and line.startswith("#version")) or not line.strip():
                continue  # the header, or an empty last line
            parts = line.split(" ")
            if len(parts) != 2 or not all(parts):
                raise ValueError(f"{merges_path} line {number}: expected two tokens separated by one space "
                                 f"(like 'Ġ t'), got {line!r}")
            merges.append((parts[0], parts[1]))
        return cls._from_gpt2_tables(vocab, merges, source=str(merges_path))

    load = from_pretrained

    @classmethod
    def _from_gpt2_tables(cls, vocab, merges, source):
        """Build a tokenizer from {printable token: id} and [(left, right)], trusting vocab's ids.

        A vocabulary entry that is neither a single byte nor made by a merge is a special token.
        """
        ids = sorted(vocab.values())
        if ids != list(range(len(ids))):
            raise ValueError(f"the vocabulary's ids must be 0..{len(ids) - 1}, each used once; "
                             f"they are not (first ids: {ids[:5]}, last: {ids[-5:]})")
        merge_pairs, merged_ids, made_by_merge = [], [], set()
        for rank, (left, right) in enumerate(merges):
            for part in (left, right, left + right):
                if part not in vocab or from_printable(part) is None:
                    raise ValueError(f"{source}: merge {rank + 1} ({left} {right}) needs the token {part!r}, "
                                     "which is not in the vocabulary; vocab.json and merges.txt must come together")
            merge_pairs.append((vocab[left], vocab[right]))
            merged_ids.append(vocab[left + right])
            made_by_merge.add(left + right)
        tokens, specials = {}, {}
        for text, i in vocab.items():
            if (len(text) == 1 and text in CHAR_TO_BYTE) or text in made_by_merge:
                tokens[i] = from_printable(text)
            else:
                tokens[i] = text.encode("utf-8")
                specials[text] = i
        tokenizer = cls()
        tokenizer._install(tokens, merge_pairs, merged_ids, specials)
        return tokenizer


def count_chunks(text, special_tokens):
    """{chunk: how often it occurs} over GPT-2's chunks of `text`, leaving the special tokens out."""
    pieces = [text]
    if special_tokens:
        pieces = re.split("|".join(map(re.escape, sorted(special_tokens, key=len, reverse=True))), text)
    counts = Counter()
    for piece in pieces:
        counts.update(GPT2_SPLIT.findall(piece))
    return counts


def learn_merges(chunk_counts, n_merges, vocab, verbose=False):
    """The BPE training loop. Adds the new tokens to `vocab` and returns [(pair, new id, count), ...].

    Rather than recounting every pair after each merge, it keeps the counts and, per merge, only
    revisits the chunks that contain the merged pair.
    """
    chunks = [list(chunk.encode("utf-8")) for chunk in chunk_counts]  # each distinct chunk as token ids
    freqs = list(chunk_counts.values())  # freqs[c]: how often chunks[c] occurs in the text
    pair_counts = Counter()  # (left, right) -> occurrences in the whole text
    chunks_with = defaultdict(set)  # (left, right) -> indices of the chunks that contain (or once contained) it
    update_pair_counts(chunks, freqs, range(len(chunks)), pair_counts=pair_counts, chunks_with=chunks_with, sign=+1)
    # A heap of (-count, pair) pops the most frequent pair; on equal counts, the smaller pair.
    # When a count changes we push a fresh entry; the stale one is skipped when it comes up.
    heap = [(-count, pair) for pair, count in pair_counts.items()]
    heapq.heapify(heap)
    history = []
    while len(history) < n_merges and heap:
        negative_count, pair = heapq.heappop(heap)
        if pair_counts.get(pair) != -negative_count:
            continue  # stale entry
        new_id = len(vocab)
        vocab[new_id] = vocab[pair[0]] + vocab[pair[1]]
        history.append((pair, new_id, -negative_count))
        if verbose:
            show = [repr(vocab[i].decode("utf-8", errors="backslashreplace")) for i in (*pair, new_id)]
            print(f"merge {len(history)}/{n_merges}: {show[0]} + {show[1]} -> {show[2]} (count {-negative_count})")
        touched = [c for c in chunks_with.pop(pair) if pair in zip(chunks[c], chunks[c][1:])]
        old_pairs = update_pair_counts(chunks, freqs, touched, pair_counts=pair_counts, chunks_with=chunks_with,
                                       sign=-1)
        for c in touched:
            chunks[c] = merge_pair(chunks[c], pair, new_id)
        new_pairs = update_pair_counts(chunks, freqs, touched, pair_counts=pair_counts, chunks_with=chunks_with,
                                       sign=+1)
        for changed_pair in old_pairs | new_pairs:
            if pair_counts[changed_pair] > 0:
                heapq.heappush(heap, (-pair_counts[changed_pair], changed_pair))
            else:
                del pair_counts[changed_pair]
    return history


def update_pair_counts(chunks, freqs, indices, *, pair_counts, chunks_with, sign):
    """Add (sign=+1) or remove (sign=-1) the pairs of chunks[c] for c in `indices`; returns the pairs seen."""
    seen = set()
    for c in indices:
        for pair in zip(chunks[c], chunks[c][1:]):
            pair_counts[pair] += sign * freqs[c]
            if sign > 0:
                chunks_with[pair].add(c)
            seen.add(pair)
    return seen
