"""minigpt.incontext: shot curves over prompt sources, and finding induction heads on repeated random tokens."""
import random

import pytest
import torch

from minigpt import GPT, BPETokenizer, CharTokenizer, GPTConfig
from minigpt.incontext import (
    RepeatedBlocks,
    common_tokens,
    induction_head_scores,
    key_match_scores,
    mapping_prompts,
    mean_curve,
    repeated_random_tokens,
    shot_curve,
    task_prompts,
)
from minigpt.model import attention_maps
from minigpt.prompting import accuracy
from minigpt.tinyworld import context_mapping_task, tasks

BPE = BPETokenizer()  # untrained byte-level BPE: every string encodes


def tiny_model(vocab_size, block_size=256, seed=0, **shape):
    torch.manual_seed(seed)
    config = {"n_layer": 2, "n_head": 2, "n_embd": 32, **shape}
    return GPT(GPTConfig(vocab_size=vocab_size, block_size=block_size, **config)).eval()


def test_task_prompts_ask_each_query_after_k_demonstrations_of_the_same_task():
    task = tasks(seed=0)["opposites"]
    build = task_prompts(task, n_queries=5, with_description=True)
    for k in (0, 3):
        queries, prompts = build(k, seed=1)
        assert queries == list(task.heldout[:5])
        for query, prompt in zip(queries, prompts):
            lines = prompt.split("\n")
            assert lines[0] == task.description and lines[-1] == query.prompt and len(lines) == k + 2
    assert build(3, seed=1) == build(3, seed=1) and build(3, seed=1) != build(3, seed=2)
    with pytest.raises(ValueError, match="heldout"):
        task_prompts(task, split="train")


def test_mapping_prompts_show_k_pairs_of_a_fresh_mapping_then_a_query():
    examples, prompts = mapping_prompts(n_keys=4, n_examples=30)(3, seed=0)
    assert len(examples) == len(prompts) == 30
    for example, prompt in zip(examples, prompts):
        assert prompt == example.prompt and prompt.startswith("lex: ") and prompt.count(" ->") == 4
        assert len(example.choices) == 4 and example.answer in example.choices
    _, described = mapping_prompts(n_keys=4, n_examples=30, description="each word stands for one word.")(3, seed=0)
    assert [p.split("\n", 1)[1] for p in described] == prompts


def test_any_key_mapping_prompts_ask_about_keys_the_demonstrations_did_not_show():
    examples, _ = mapping_prompts(n_keys=4, n_examples=100, query="any")(1, seed=0)
    shown_key = [ex.prompt[len("lex: "):].split(" -> ", 1)[0] for ex in examples]
    asked_key = [ex.prompt[: -len(" ->")].rsplit(" ", 1)[-1] for ex in examples]
    unshown = sum(shown != asked for shown, asked in zip(shown_key, asked_key))
    assert 55 <= unshown <= 95  # one shown key of four: the query is another key 3 times in 4
    examples, _ = mapping_prompts(n_keys=4, n_examples=100)(1, seed=0)
    assert all(ex.prompt[len("lex: "):].split(" -> ", 1)[0] == ex.prompt[: -len(" ->")].rsplit(" ", 1)[-1]
               for ex in examples)


def test_zero_shot_on_a_context_defined_mapping_is_at_chance_for_any_model():
    model = tiny_model(BPE.vocab_size)
    curve = shot_curve(model, BPE, mapping_prompts(n_keys=4, n_examples=400), shots=(0,), seeds=(0, 1))
    assert all(abs(acc - 0.25) < 0.07 for acc in curve[0])  # 400 questions: sd of the mean ~0.022


def test_shot_curve_is_accuracy_for_each_k_and_seed():
    task = tasks(seed=0)["colours"]
    model = tiny_model(BPE.vocab_size)
    build = task_prompts(task, n_queries=6)
    curve = shot_curve(model, BPE, build, shots=(0, 2), seeds=(0, 1))
    assert set(curve) == {0, 2} and all(len(accs) == 2 for accs in curve.values())
    for k in (0, 2):
        for i, seed in enumerate((0, 1)):
            assert curve[k][i] == accuracy(model, BPE, *build(k, seed))
    assert mean_curve({0: [0.2, 0.4], 8: [1.0]}) == pytest.approx({0: 0.3, 8: 1.0})
    with pytest.raises(ValueError, match="shots"):
        shot_curve(model, BPE, build, shots=(-1,))


def test_repeated_random_tokens_repeat_a_block_drawn_from_the_given_ids():
    ids = torch.tensor([5, 9, 11, 40])
    seqs = repeated_random_tokens(3, 7, ids, seed=2)
    assert seqs.shape == (3, 14) and torch.equal(seqs[:, :7], seqs[:, 7:])
    assert set(seqs.flatten().tolist()) <= {5, 9, 11, 40}
    assert torch.equal(seqs, repeated_random_tokens(3, 7, ids, seed=2))
    with pytest.raises(ValueError, match="at least two"):
        repeated_random_tokens(3, 7, [5])


def test_common_tokens_are_those_seen_often_enough():
    ids = torch.tensor([1] * 5 + [2] * 2 + [7] * 9)
    assert common_tokens(ids, vocab_size=10, min_count=5).tolist() == [1, 7]


def test_induction_head_scores_average_each_heads_attention_to_the_token_after_the_first_occurrence():
    model = tiny_model(50, block_size=32, n_layer=3, n_head=4)
    seqs = repeated_random_tokens(5, 8, torch.arange(50), seed=0)
    scores = induction_head_scores(model, seqs)
    assert scores.shape == (3, 4)
    maps = attention_maps(model, seqs)
    by_hand = torch.tensor([[sum(maps[layer][b, h, t, t - 7].item() for b in range(5) for t in range(8, 16)) / 40
                             for h in range(4)] for layer in range(3)])
    assert torch.allclose(scores, by_hand, atol=1e-6)
    assert scores.max() < 0.3  # an untrained model spreads its attention: no head is an induction head
    with pytest.raises(ValueError, match="even length"):
        induction_head_scores(model, seqs[:, :15])


def test_repeated_blocks_are_windows_of_one_random_block_repeated():
    data = RepeatedBlocks(vocab_size=50, block_size=32, batch_size=16)
    x, y = data.get_batch("train", torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (16, 32) and torch.equal(x[:, 1:], y[:, :-1])
    for row in torch.cat([x, y[:, -1:]], dim=1):
        period = next(p for p in range(5, 16) if torch.equal(row[p:], row[:-p]))  # the smallest period that repeats
        assert 5 <= period < 16
    again, _ = data.get_batch("train", torch.Generator().manual_seed(0))
    assert torch.equal(x, again)
    with pytest.raises(ValueError, match="min_period"):
        RepeatedBlocks(50, 32, 4, min_period=16)


def lex_ids_by_pieces(tokenizer, prompt):
    """A lex prompt's ids built pair by pair, with the positions of the words that followed the asked key."""
    *pairs, asked = prompt.removeprefix("lex: ").split(", ")
    ids, targets = tokenizer.encode("lex:"), []
    for pair in pairs:
        key, value = pair.split(" -> ")
        ids += tokenizer.encode(" " + key) + tokenizer.encode(" ->")
        if key == asked.split()[0]:
            targets.append(len(ids))
        ids += tokenizer.encode(" " + value) + tokenizer.encode(",")
    return ids + tokenizer.encode(" " + asked), targets


def test_key_match_scores_are_each_heads_attention_from_the_query_to_the_words_its_key_had():
    examples = context_mapping_task(seed=0, n_pairs=6, n_examples=12, query="shown")
    model = tiny_model(BPE.vocab_size)
    expected = torch.zeros(2, 2)
    for example in examples:  # one prompt at a time, no padding, positions found from the pairs
        ids, targets = lex_ids_by_pieces(BPE, example.prompt)
        assert ids == BPE.encode(example.prompt) and targets
        with torch.no_grad():
            maps = attention_maps(model, torch.tensor([ids]))
        expected += torch.stack([layer[0, :, -1, targets].sum(-1) for layer in maps])
    assert torch.allclose(key_match_scores(model, BPE, examples), expected / len(examples), atol=1e-6)
    with pytest.raises(ValueError, match="query='shown'"):
        key_match_scores(model, BPE, context_mapping_task(seed=0, n_pairs=0, n_examples=3))
