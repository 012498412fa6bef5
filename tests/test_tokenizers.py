"""Tests for minigpt.tokenizers: the character tokenizer and GPT-2 style byte-level BPE."""
import functools
import json
import random
from collections import Counter

import pytest
import regex
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from minigpt.tokenizers import BPETokenizer, CharTokenizer, load_tokenizer

ENGLISH = """\
The little train left the station at seven in the morning, and the people on the platform waved
until it was gone. Nobody on board knew that the driver had never driven a train before. He had
read every book about trains in the town library, and he had watched the old driver for three
years, but reading and watching are not the same as doing. Still, the train went on, over the
river and through the hills, and the passengers drank their tea and looked out of the windows.
At the second station a woman with a large basket of apples got on. She sat down next to a boy
who was reading a book about the sea. "Is it a good book?" she asked. "It is the best book I have
ever read," said the boy, "but I have only read two books." The woman laughed and gave him an apple.
In 1989 the line was closed, and in 2004 it was opened again, with 12 new stations and 3 new trains.
"""
ACCENTS_AND_EMOJI = "Café, naïve façade, résumé, Über, señor. Ελληνικά, русский, 日本語のテキスト. 😀 🎉 👍🏽 ❤️\n"
TRAINING_TEXT = ENGLISH * 3 + ACCENTS_AND_EMOJI * 2
VARIED_TEXTS = [
    "Hello, world!",
    "The train left the station at seven.",
    "Café naïve résumé Über — «quotes» and ‘curly’ ones",
    "emoji 😀🎉👍🏽 and ZWJ families 👨‍👩‍👧",
    "whitespace   runs\t\ttabs\n\n\nnewlines  \n  ",
    "digits 0123456789 3.14159 1,000,000",
    "one<|endoftext|>two <|endoftext|><|endoftext|> three",
    "don't we'll they're I'M",
    "",
    " ",
]
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
any_character = st.characters(blacklist_categories=("Cs",))  # anything but a lone surrogate
any_unicode = st.text(alphabet=any_character)


@functools.cache
def trained_bpe():
    return BPETokenizer().train(TRAINING_TEXT, vocab_size=400)


# --- CharTokenizer -----------------------------------------------------------------------------


def test_char_tokenizer_round_trips_its_text():
    tok = CharTokenizer.from_text(ENGLISH)
    ids = tok.encode(ENGLISH)
    assert len(ids) == len(ENGLISH)
    assert tok.decode(ids) == ENGLISH
    assert tok.decode(torch.tensor(ids)) == ENGLISH


def test_char_vocabulary_is_sorted_characters_then_special_tokens():
    tok = CharTokenizer.from_text("banana", special_tokens=["<|endoftext|>"])
    assert tok.vocab_size == len(tok) == 4
    assert tok.decode([0, 1, 2]) == "abn"
    assert tok.encode("<|endoftext|>") == [3]


def test_char_special_tokens_encode_to_one_id_wherever_they_occur():
    tok = CharTokenizer.from_text("ab", special_tokens=["<|endoftext|>", "<sep>"])
    ids = tok.encode("a<sep>b<|endoftext|><|endoftext|>a")
    assert ids == [0, 3, 1, 2, 2, 0]
    assert tok.decode(ids) == "a<sep>b<|endoftext|><|endoftext|>a"


def test_char_unknown_character_error_speaks_to_a_student():
    tok = CharTokenizer.from_text("abc def")
    with pytest.raises(ValueError) as err:
        tok.encode("abc defabcdeé")
    message = str(err.value)
    assert "'é' (U+00E9) at position 12" in message
    assert "not in this tokenizer's vocabulary of 7 characters" in message
    assert "CharTokenizer.from_text" in message and "BPETokenizer" in message


def test_char_unknown_character_position_counts_special_tokens_as_their_text():
    tok = CharTokenizer.from_text("ab", special_tokens=["<s>"])
    with pytest.raises(ValueError, match=r"'Z' \(U\+005A\) at position 4"):
        tok.encode("a<s>Z")


def test_char_tokenizer_from_empty_text_is_an_error():
    with pytest.raises(ValueError, match="cannot build a character vocabulary from empty text"):
        CharTokenizer.from_text("")


def test_char_tokenizer_saves_tokenizer_json_and_loads_back(tmp_path):
    tok = CharTokenizer.from_text("hello wörld\n", special_tokens=["<|endoftext|>"])
    tok.save(tmp_path / "new_dir")
    saved = json.loads((tmp_path / "new_dir" / "tokenizer.json").read_text(encoding="utf-8"))
    assert saved == {"type": "char", "chars": sorted(set("hello wörld\n")), "special_tokens": ["<|endoftext|>"]}
    loaded = load_tokenizer(tmp_path / "new_dir")
    assert isinstance(loaded, CharTokenizer)
    assert loaded.encode("wörld<|endoftext|>") == tok.encode("wörld<|endoftext|>")
    assert CharTokenizer.from_dict(json.loads(json.dumps(tok.to_dict()))).to_dict() == tok.to_dict()


@pytest.mark.parametrize("make", [lambda: CharTokenizer.from_text("abc"), BPETokenizer], ids=["char", "bpe"])
def test_decode_rejects_out_of_range_ids_naming_the_id_and_vocab_size(make):
    tok = make()
    for bad in (tok.vocab_size, -1):
        with pytest.raises(ValueError, match=rf"token id {bad} is out of range: this tokenizer has {tok.vocab_size}"):
            tok.decode([0, bad])


def test_reprs_show_the_vocabulary_size():
    assert "vocab_size=3" in repr(CharTokenizer.from_text("abc"))
    assert "vocab_size=400" in repr(trained_bpe()) and "<|endoftext|>" in repr(trained_bpe())


# --- BPETokenizer: round trips -----------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(any_unicode)
def test_trained_bpe_round_trips_any_unicode(text):
    assert trained_bpe().decode(trained_bpe().encode(text)) == text


@settings(max_examples=15, deadline=None)
@given(st.text(alphabet=any_character, min_size=1000, max_size=4000))
def test_trained_bpe_round_trips_long_unicode_strings(text):
    assert trained_bpe().decode(trained_bpe().encode(text)) == text


@settings(max_examples=200, deadline=None)
@given(any_unicode)
def test_untrained_bpe_round_trips_any_unicode_as_its_bytes(text):
    tok = BPETokenizer()
    ids = tok.encode(text)
    assert ids == list(text.encode("utf-8"))  # before training, token id = byte value
    assert tok.decode(ids) == text


def test_decode_replaces_a_cut_multibyte_character_instead_of_failing():
    tok = BPETokenizer()
    assert tok.encode("é") == [0xC3, 0xA9]
    assert tok.decode([0xC3]) == "\ufffd"
    assert tok.token_str(0xC3) == "\\xc3" and tok.token_bytes(0xC3) == b"\xc3"


# --- BPETokenizer: training --------------------------------------------------------------------


def test_first_merges_on_a_tiny_text_are_the_ones_computed_by_hand():
    # GPT-2's chunks of "aaab aab ab" are "aaab", " aab", " ab". Pair counts:
    #   (a, a): 2 + 1 = 3   (a, b): 1 + 1 + 1 = 3   (' ', a): 2
    # The tie (a, a) vs (a, b) goes to the smaller pair, (97, 97) -> token 256 "aa".
    # Chunks are now [aa, a, b], [' ', aa, b], [' ', a, b]: (a, b) occurs twice, all else once -> 257 "ab".
    # Chunks [aa, ab], [' ', aa, b], [' ', ab]: four pairs occur once; the smallest is (' ', aa) = (32, 256).
    tok = BPETokenizer().train("aaab aab ab", vocab_size=259, special_tokens=())
    assert tok.merges == [(97, 97), (97, 98), (32, 256)]
    assert tok.merge_history == [((97, 97), 256, 3), ((97, 98), 257, 2), ((32, 256), 258, 1)]
    assert [tok.token_str(i) for i in (256, 257, 258)] == ["aa", "ab", " aa"]


def reference_bpe(text, n_merges):
    """Plain BPE: recount every pair of every chunk occurrence before each merge.

    Returns the merges and the text's chunks as token ids after the last merge.
    """
    chunks = [list(chunk.encode("utf-8")) for chunk in regex.findall(GPT2_PATTERN, text)]
    merges = []
    for new_id in range(256, 256 + n_merges):
        counts = Counter()
        for ids in chunks:
            for k in range(len(ids) - 1):
                counts[(ids[k], ids[k + 1])] += 1
        best = max(counts.values())
        pair = min(p for p, c in counts.items() if c == best)  # ties: the smallest (left, right)
        merges.append(pair)
        for ids in chunks:
            k = 0
            while k < len(ids) - 1:
                if (ids[k], ids[k + 1]) == pair:
                    ids[k:k + 2] = [new_id]
                k += 1
    return merges, chunks


def test_training_learns_the_same_merges_as_a_plain_python_reference():
    text = ENGLISH + ACCENTS_AND_EMOJI
    tok = BPETokenizer().train(text, vocab_size=256 + 80, special_tokens=())
    merges, _ = reference_bpe(text, 80)
    assert tok.merges == merges


def test_encoding_the_training_text_gives_the_segmentation_training_ended_with():
    text = ENGLISH + ACCENTS_AND_EMOJI
    tok = BPETokenizer().train(text, vocab_size=256 + 80, special_tokens=())
    _, chunks = reference_bpe(text, 80)
    assert tok.encode(text) == [i for ids in chunks for i in ids]


def test_training_is_deterministic():
    first = BPETokenizer().train(TRAINING_TEXT, vocab_size=400)
    second = BPETokenizer().train(TRAINING_TEXT, vocab_size=400)
    assert first.merges == second.merges
    assert first.encode(TRAINING_TEXT) == second.encode(TRAINING_TEXT)


def test_merges_get_ids_after_the_bytes_and_special_tokens_after_the_merges():
    tok = trained_bpe()
    assert len(tok.merges) == 400 - 256 - 1
    assert [new_id for _, new_id, _ in tok.merge_history] == list(range(256, 399))
    assert tok.special_tokens == {"<|endoftext|>": 399}
    assert tok.encode("a<|endoftext|>b") == tok.encode("a") + [399] + tok.encode("b")


def test_trained_bpe_needs_fewer_tokens_than_bytes_for_english():
    sentence = "The boy read the book about the train, and the woman gave him an apple."
    ids = trained_bpe().encode(sentence)
    assert len(ids) < 0.5 * len(sentence.encode("utf-8"))
    assert trained_bpe().decode(ids) == sentence


def test_verbose_training_prints_each_merge(capsys):
    BPETokenizer().train("aaab aab ab", vocab_size=259, special_tokens=(), verbose=True)
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["merge 1/3: 'a' + 'a' -> 'aa' (count 3)",
                     "merge 2/3: 'a' + 'b' -> 'ab' (count 2)",
                     "merge 3/3: ' ' + 'aa' -> ' aa' (count 1)"]


def test_training_warns_when_the_text_runs_out_of_pairs():
    # Chunks "abc" and " abc": merges "ab", "abc", " abc", and then no pair is left.
    with pytest.warns(UserWarning, match="ran out of pairs to merge after 3 merges"):
        tok = BPETokenizer().train("abc abc", vocab_size=300)
    assert tok.vocab_size == 256 + 3 + 1 and tok.decode(tok.encode("abc abc")) == "abc abc"


def test_training_errors_speak_to_a_student():
    with pytest.raises(ValueError, match=r"vocab_size=256 is too small.*256 byte tokens \+ 1 special token\(s\) = 257"):
        BPETokenizer().train("some text", vocab_size=256)
    with pytest.raises(ValueError, match="empty text"):
        BPETokenizer().train("", vocab_size=300)


# --- BPETokenizer: GPT-2's files ---------------------------------------------------------------


def test_save_then_from_pretrained_gives_identical_ids(tmp_path):
    tok = trained_bpe()
    tok.save(tmp_path / "bpe")
    loaded = BPETokenizer.from_pretrained(tmp_path / "bpe")
    assert loaded.special_tokens == tok.special_tokens and loaded.merges == tok.merges
    for text in VARIED_TEXTS + [TRAINING_TEXT]:
        assert loaded.encode(text) == tok.encode(text)
        assert loaded.decode(loaded.encode(text)) == text
    assert BPETokenizer.load(tmp_path / "bpe").encode(ENGLISH) == tok.encode(ENGLISH)


def test_to_dict_is_plain_json_and_from_dict_restores_the_tokenizer():
    d = json.loads(json.dumps(trained_bpe().to_dict()))
    restored = BPETokenizer.from_dict(d)
    assert restored.encode(TRAINING_TEXT) == trained_bpe().encode(TRAINING_TEXT)


def test_saved_files_follow_gpt2_format(tmp_path):
    tok = trained_bpe()
    tok.save(tmp_path)
    lines = (tmp_path / "merges.txt").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "#version: 0.2"
    assert len(lines) == 1 + len(tok.merges)
    vocab = json.loads((tmp_path / "vocab.json").read_text(encoding="utf-8"))
    assert vocab["Ġ"] == 32 and vocab["Ċ"] == 10 and vocab["!"] == 33  # bytes -> GPT-2's printable characters
    assert vocab["<|endoftext|>"] == 399
    assert len(vocab) == tok.vocab_size
    left, right = lines[1].split(" ")
    assert (vocab[left], vocab[right]) == tok.merges[0]
    assert all(" " not in token for token in vocab)


def write_vocab_with_new_ids(source_dir, target_dir, new_id):
    """Copy a saved tokenizer, giving the token with id i the id new_id[i] in vocab.json."""
    vocab = json.loads((source_dir / "vocab.json").read_text(encoding="utf-8"))
    target_dir.mkdir()
    renumbered = {token: new_id[i] for token, i in vocab.items()}
    (target_dir / "vocab.json").write_text(json.dumps(renumbered), encoding="utf-8")
    (target_dir / "merges.txt").write_text((source_dir / "merges.txt").read_text(encoding="utf-8"), encoding="utf-8")


def test_loading_a_vocab_with_shuffled_ids_encodes_to_the_shuffled_ids(tmp_path):
    tok = trained_bpe()
    tok.save(tmp_path / "original")
    permutation = list(range(tok.vocab_size))
    random.Random(0).shuffle(permutation)
    write_vocab_with_new_ids(tmp_path / "original", tmp_path / "shuffled", permutation)
    shuffled = BPETokenizer.from_pretrained(tmp_path / "shuffled")
    for text in VARIED_TEXTS + [TRAINING_TEXT]:
        assert shuffled.encode(text) == [permutation[i] for i in tok.encode(text)]
        assert shuffled.decode(shuffled.encode(text)) == text
    assert shuffled.special_tokens == {"<|endoftext|>": permutation[399]}


def test_gpt2_id_layout_puts_exclamation_mark_first_and_space_at_220(tmp_path):
    # Real GPT-2 numbers its 256 byte tokens in the order of its printable table: the 188 visible
    # bytes ('!' = 0, ...) then the others (byte 0 = 188, ..., newline = 198, space = 220).
    tok = trained_bpe()
    tok.save(tmp_path / "original")
    visible = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    byte_order = visible + [b for b in range(256) if b not in visible]
    new_id = {b: k for k, b in enumerate(byte_order)} | {i: i for i in range(256, tok.vocab_size)}
    write_vocab_with_new_ids(tmp_path / "original", tmp_path / "gpt2_layout", new_id)
    gpt2_layout = BPETokenizer.from_pretrained(tmp_path / "gpt2_layout")
    assert gpt2_layout.encode("!") == [0] and gpt2_layout.encode("\n") == [198] and gpt2_layout.encode(" ") == [220]
    assert gpt2_layout.encode(ENGLISH) == [new_id[i] for i in tok.encode(ENGLISH)]


def test_loading_missing_files_says_what_was_expected_where(tmp_path):
    with pytest.raises(FileNotFoundError, match="expected vocab.json at .*gpt2"):
        BPETokenizer.from_pretrained(tmp_path)
    trained_bpe().save(tmp_path)
    (tmp_path / "merges.txt").unlink()
    with pytest.raises(FileNotFoundError, match="expected merges.txt at"):
        BPETokenizer.from_pretrained(tmp_path)


def test_loading_a_bad_merges_file_names_the_line(tmp_path):
    trained_bpe().save(tmp_path)
    lines = (tmp_path / "merges.txt").read_text(encoding="utf-8").splitlines()
    (tmp_path / "merges.txt").write_text("\n".join(lines[:3] + ["Ġ t h"] + lines[3:]), encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 4: expected two tokens separated by one space"):
        BPETokenizer.from_pretrained(tmp_path)
    (tmp_path / "merges.txt").write_text("\n".join(lines[:3] + ["Ġ zzzq"] + lines[3:]), encoding="utf-8")
    with pytest.raises(ValueError, match=r"merge 3 \(Ġ zzzq\) needs the token 'zzzq', which is not in the vocabulary"):
        BPETokenizer.from_pretrained(tmp_path)


def test_load_tokenizer_dispatches_on_the_files_present(tmp_path):
    CharTokenizer.from_text("abc").save(tmp_path / "char")
    trained_bpe().save(tmp_path / "bpe")
    assert isinstance(load_tokenizer(tmp_path / "char"), CharTokenizer)
    assert load_tokenizer(tmp_path / "bpe").encode(ENGLISH) == trained_bpe().encode(ENGLISH)
    with pytest.raises(ValueError, match="looked for tokenizer.json .* and for vocab.json \\+ merges.txt"):
        load_tokenizer(tmp_path / "nothing_here")
    CharTokenizer.from_text("abc").save(tmp_path / "bpe")
    with pytest.raises(ValueError, match="holds both a CharTokenizer"):
        load_tokenizer(tmp_path / "bpe")
