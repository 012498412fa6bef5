"""minigpt.prompting: likelihood scoring checked by hand and by the chain rule, batching, truncation,
and zero-/few-shot accuracy on a model that has learnt a toy text."""
import random

import pytest
import torch
import torch.nn as nn

from minigpt import GPT, BPETokenizer, CharTokenizer, GPTConfig
from minigpt.prompting import (
    accuracy,
    build_prompt,
    few_shot_prompts,
    continuation_logprobs,
    continuations_logprobs,
    greedy_accuracy,
    greedy_completion,
    predict,
    score_choices,
    score_many,
    task_accuracies,
    token_logprobs,
)
from minigpt.tinyworld.tasks import Example, Task, tasks

TOY_TEXT = "a b c d e f g h.\n" * 60  # the letter after "c " is always "d": learnable from the context
LETTERS = "abcdefgh"
CHAR_TOKENIZER = CharTokenizer.from_text(TOY_TEXT + "wxyz")


def tiny_model(vocab_size, block_size=24, seed=0):
    torch.manual_seed(seed)
    return GPT(GPTConfig(vocab_size=vocab_size, block_size=block_size, n_layer=2, n_head=2, n_embd=32))


def toy_examples():
    """'a b c' -> ' d' and so on: the next letter, with three other letters as wrong choices."""
    rng = random.Random(0)
    examples = []
    for start, length in [(0, 3), (1, 2), (2, 4), (3, 3), (4, 2), (0, 6), (2, 3), (5, 2)]:
        answer = LETTERS[start + length]
        choices = [answer] + rng.sample([x for x in LETTERS if x != answer], 3)
        rng.shuffle(choices)
        prompt = " ".join(LETTERS[start : start + length])
        examples.append(Example(prompt, " " + answer, tuple(" " + c for c in choices)))
    return examples


@pytest.fixture(scope="module")
def trained():
    """A tiny GPT trained for 150 steps on TOY_TEXT (a few seconds on a CPU)."""
    model = tiny_model(CHAR_TOKENIZER.vocab_size)
    data = torch.tensor(CHAR_TOKENIZER.encode(TOY_TEXT))
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(0)
    T = model.config.block_size
    for _ in range(150):
        starts = torch.randint(len(data) - T - 1, (16,), generator=g)
        x = torch.stack([data[s : s + T] for s in starts])
        y = torch.stack([data[s + 1 : s + T + 1] for s in starts])
        _, loss = model(x, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


TOKENIZERS = {"char": CHAR_TOKENIZER, "bpe (untrained)": BPETokenizer()}


@pytest.fixture(params=list(TOKENIZERS), ids=list(TOKENIZERS))
def tokenizer_and_model(request):
    tokenizer = TOKENIZERS[request.param]
    return tokenizer, tiny_model(tokenizer.vocab_size)


# ---- scoring a continuation ----


def test_scoring_equals_a_hand_computation_of_log_softmax(tokenizer_and_model):
    tokenizer, model = tokenizer_and_model
    prompt, continuation = "a b c", " d e"
    ids = tokenizer.encode(prompt) + tokenizer.encode(continuation)
    n_prompt = len(tokenizer.encode(prompt))
    with torch.no_grad():
        logits, _ = model(torch.tensor([ids]))
    log_probs = torch.log_softmax(logits[0], dim=-1)  # (T, V)
    by_hand = [log_probs[t - 1, ids[t]].item() for t in range(n_prompt, len(ids))]  # position t-1 predicts t

    got = continuation_logprobs(model, tokenizer, prompt, continuation)
    assert got.shape == (len(ids) - n_prompt,)
    assert got.tolist() == pytest.approx(by_hand, abs=1e-5)
    assert score_choices(model, tokenizer, prompt, [continuation], normalize="sum")[0] == pytest.approx(sum(by_hand),
                                                                                            abs=1e-5)


def test_scoring_follows_the_chain_rule_one_prefix_at_a_time(tokenizer_and_model):
    """log P(y | x) = sum_t log P(y_t | x, y_<t), each term from a separate forward pass over the prefix."""
    tokenizer, model = tokenizer_and_model
    prompt, continuation = "h.\na b", " c d"
    ids = tokenizer.encode(prompt + continuation)
    n_prompt = len(tokenizer.encode(prompt))
    terms = []
    with torch.no_grad():
        for t in range(n_prompt, len(ids)):
            logits, _ = model(torch.tensor([ids[:t]]))
            terms.append(torch.log_softmax(logits[0, -1], dim=-1)[ids[t]].item())  # the next token after ids[:t]
    got = continuation_logprobs(model, tokenizer, prompt, continuation)
    assert got.tolist() == pytest.approx(terms, abs=1e-5)


def test_token_logprobs_scores_the_continuation_with_the_logits_one_position_earlier():
    logits = torch.randn(5, 7)
    tokens = torch.tensor([1, 2, 3, 4, 5])
    got = token_logprobs(logits, tokens, n_prompt=2)
    log_probs = torch.log_softmax(logits, dim=-1)
    assert torch.allclose(got, torch.stack([log_probs[1, 3], log_probs[2, 4], log_probs[3, 5]]))
    with pytest.raises(ValueError, match="n_prompt=0"):
        token_logprobs(logits, tokens, n_prompt=0)


def test_padding_in_a_batch_does_not_change_the_scores(tokenizer_and_model):
    tokenizer, model = tokenizer_and_model
    prompt = "a b c d"
    choices = [" e", " e f g h.", " x", " e f"]  # different lengths: the short ones are padded
    alone = [continuation_logprobs(model, tokenizer, prompt, c) for c in choices]  # one sequence, no padding
    assert score_choices(model, tokenizer, prompt, choices, normalize="sum") == pytest.approx(
        [a.sum().item() for a in alone], abs=1e-5)
    assert score_choices(model, tokenizer, prompt, choices, normalize="mean") == pytest.approx(
        [a.mean().item() for a in alone], abs=1e-5)


def test_many_continuations_at_once_give_each_tokens_logprobs_as_alone(tokenizer_and_model, monkeypatch):
    tokenizer, model = tokenizer_and_model
    pairs = [("a b c d", " e f g h."), ("a", " b"), ("c d e f g", " h. a b c")]
    alone = [continuation_logprobs(model, tokenizer, prompt, c) for prompt, c in pairs]
    for budget in (10**9, 1):  # everything in one batch (padded); one sequence per batch
        monkeypatch.setattr("minigpt.prompting.LOGITS_BUDGET", budget)
        for got, want in zip(continuations_logprobs(model, tokenizer, pairs), alone):
            assert got.shape == want.shape and torch.allclose(got, want, atol=1e-5)


def test_scoring_many_queries_at_once_equals_scoring_each_alone(tokenizer_and_model, monkeypatch):
    tokenizer, model = tokenizer_and_model
    queries = [("a b c d", [" e", " e f g h.", " x"]), ("a", [" b", " b c"]), ("c d e f g", [" h.", " a", " b", " c"])]
    alone = [score_choices(model, tokenizer, prompt, choices, normalize="sum") for prompt, choices in queries]
    for budget in (10**9, 1):  # everything in one batch; one sequence per batch
        monkeypatch.setattr("minigpt.prompting.LOGITS_BUDGET", budget)
        together = score_many(model, tokenizer, queries, "sum")
        assert [len(s) for s in together] == [3, 2, 4]
        for got, want in zip(together, alone):
            assert got == pytest.approx(want, abs=1e-5)


def test_a_long_prompt_loses_tokens_on_the_left_and_keeps_the_continuation():
    model = tiny_model(CHAR_TOKENIZER.vocab_size, block_size=8)
    prompt, continuation = "a b c d e f g h.\na b", " c d"  # 19 + 4 characters, one token each
    got = continuation_logprobs(model, CHAR_TOKENIZER, prompt, continuation)
    assert got.shape == (4,)
    kept = prompt[-(8 - 4) :]  # the prompt's last 4 tokens fit beside the 4 of the continuation
    assert torch.allclose(got, continuation_logprobs(model, CHAR_TOKENIZER, kept, continuation), atol=1e-6)
    scores = score_choices(model, CHAR_TOKENIZER, prompt, [continuation, " c"], normalize="sum")
    assert scores[0] == pytest.approx(got.sum().item(), abs=1e-5)
    assert scores[1] == pytest.approx(score_choices(model, CHAR_TOKENIZER, prompt[-7:], [" c"], normalize="sum")[0],
                                      abs=1e-5)


def test_a_continuation_that_cannot_fit_is_an_error():
    model = tiny_model(CHAR_TOKENIZER.vocab_size, block_size=8)
    assert continuation_logprobs(model, CHAR_TOKENIZER, "a", " b c d ").shape == (7,)  # + 1 of prompt: fits
    with pytest.raises(ValueError, match="continuation has 8 tokens but block_size is 8"):
        continuation_logprobs(model, CHAR_TOKENIZER, "a", " b c d e")
    with pytest.raises(ValueError, match="prompt is empty"):
        continuation_logprobs(model, CHAR_TOKENIZER, "", " b")


def test_mean_divides_the_sum_by_the_length_and_sum_favours_short_answers():
    model = tiny_model(CHAR_TOKENIZER.vocab_size)  # untrained: every token costs about log V
    choices = [" d", " d e f g h", " d e"]
    sums = score_choices(model, CHAR_TOKENIZER, "a b c", choices, normalize="sum")
    means = score_choices(model, CHAR_TOKENIZER, "a b c", choices, normalize="mean")
    assert means == pytest.approx([s / len(c) for s, c in zip(sums, choices)], abs=1e-6)
    assert sums[0] > sums[2] > sums[1]  # the shortest wins under "sum"
    assert max(means) - min(means) < 0.5 < min(sums[0] - sums[2], sums[2] - sums[1])  # per token they are alike
    with pytest.raises(ValueError, match="normalize"):
        score_choices(model, CHAR_TOKENIZER, "a", [" b"], normalize="max")


def test_scoring_restores_train_mode_and_builds_no_graph():
    model = tiny_model(CHAR_TOKENIZER.vocab_size)
    model.train()
    got = continuation_logprobs(model, CHAR_TOKENIZER, "a b", " c")
    score_choices(model, CHAR_TOKENIZER, "a b", [" c", " d"])
    assert model.training and not got.requires_grad
    model.eval()
    score_choices(model, CHAR_TOKENIZER, "a b", [" c", " d"])
    assert not model.training


# ---- zero- and few-shot accuracy ----


def test_a_trained_model_predicts_every_toy_answer_and_an_untrained_one_does_not(trained):
    examples = toy_examples()
    assert predict(trained, CHAR_TOKENIZER, examples[0]) == " d"
    for normalize in ("mean", "sum"):
        assert accuracy(trained, CHAR_TOKENIZER, examples, normalize=normalize) == 1.0
    assert accuracy(tiny_model(CHAR_TOKENIZER.vocab_size), CHAR_TOKENIZER, examples) < 1.0


def test_accuracy_takes_one_prompt_per_example(trained):
    examples = toy_examples()
    # each query as the training text writes it: one whole line, then the letters from "a" up to the query's end
    in_context = [build_prompt(["a b c d e f g h."], TOY_TEXT[: TOY_TEXT.index(ex.prompt[-1]) + 1]) for ex in examples]
    assert accuracy(trained, CHAR_TOKENIZER, examples, prompts=in_context) == 1.0
    after_g = ["a b c d e f g"] * len(examples)  # every example asked after "g": the model answers " h"
    with_h = [(ex, p) for ex, p in zip(examples, after_g) if " h" in ex.choices]
    assert with_h and all(predict(trained, CHAR_TOKENIZER, ex, p) == " h" for ex, p in with_h)
    assert accuracy(trained, CHAR_TOKENIZER, examples, prompts=after_g) < 1.0
    with pytest.raises(ValueError, match="2 prompts for 8 examples"):
        accuracy(trained, CHAR_TOKENIZER, examples, prompts=in_context[:2])


def test_task_accuracies_is_accuracy_per_task_on_the_chosen_split(trained):
    examples = toy_examples()
    wrong_answers = [Example(e.prompt, next(c for c in e.choices if c != e.answer), e.choices) for e in examples]
    toy = {"right": Task("right", "", "{prompt}{answer}", tuple(examples), tuple(wrong_answers)),
           "wrong": Task("wrong", "", "{prompt}{answer}", tuple(wrong_answers), tuple(examples))}
    assert task_accuracies(trained, CHAR_TOKENIZER, toy) == {"right": 0.0, "wrong": 1.0}  # held-out by default
    assert task_accuracies(trained, CHAR_TOKENIZER, toy, split="examples") == {"right": 1.0, "wrong": 0.0}
    with pytest.raises(ValueError, match="heldout"):
        task_accuracies(trained, CHAR_TOKENIZER, toy, split="test")


def test_greedy_completion_and_accuracy_on_the_trained_model(trained):
    assert greedy_completion(trained, CHAR_TOKENIZER, "c d e") == " f g h"  # cut at "."
    assert greedy_completion(trained, CHAR_TOKENIZER, "c d e", max_new_tokens=2) == " f"
    assert greedy_accuracy(trained, CHAR_TOKENIZER, toy_examples()) == 1.0


class ScriptedModel(nn.Module):
    """Stands in for a GPT: `generate` appends fixed tokens, whatever the prompt."""

    def __init__(self, tokenizer, text, block_size=16):
        super().__init__()
        self.config = GPTConfig(vocab_size=tokenizer.vocab_size, block_size=block_size, n_layer=1, n_head=1, n_embd=4)
        self.weight = nn.Parameter(torch.zeros(1))
        self.script = torch.tensor(tokenizer.encode(text))
        self.prompts = []

    def generate(self, idx, max_new_tokens, temperature=1.0, generator=None):
        assert temperature == 0, "greedy decoding"
        self.prompts.append(idx[0].tolist())
        return torch.cat([idx, self.script[:max_new_tokens][None]], dim=1)


@pytest.mark.parametrize("text, stop, expected", [
    (" x y.z\nw", ("\n", "."), " x y"),  # the earliest stop string wins
    (" x y\nz.w", ("\n", "."), " x y"),
    (" x y.z\nw", ("\n",), " x y.z"),
    (" x y z", ("\n", "."), " x y z"),  # no stop string: the whole completion
    (".x", ("\n", "."), ""),
])
def test_greedy_completion_cuts_at_the_first_stop_string(text, stop, expected):
    assert greedy_completion(ScriptedModel(CHAR_TOKENIZER, text), CHAR_TOKENIZER, "a", stop=stop) == expected


def test_greedy_completion_keeps_the_last_block_size_tokens_of_the_prompt():
    model = ScriptedModel(CHAR_TOKENIZER, " x", block_size=4)
    greedy_completion(model, CHAR_TOKENIZER, "a b c d")
    assert model.prompts == [CHAR_TOKENIZER.encode(" c d")]


def test_greedy_accuracy_rule_strips_both_sides_and_tests_the_prefix():
    example = Example("a", " cold", (" cold", " hot"))
    for completion, right in [(" cold", True), ("  cold and wet", True), (" colder", True), (" hot", False),
                              ("", False), (" c", False)]:
        tokenizer = CharTokenizer.from_text("acdehlnortw .")
        model = ScriptedModel(tokenizer, completion + ".")
        assert greedy_accuracy(model, tokenizer, [example]) == float(right), completion


def test_greedy_completion_works_with_an_untrained_bpe_tokenizer():
    tokenizer = BPETokenizer()
    completion = greedy_completion(tiny_model(tokenizer.vocab_size), tokenizer, "héllo wörld", max_new_tokens=5)
    assert isinstance(completion, str) and len(completion) <= 5


# ---- prompts ----


def test_build_prompt_puts_description_demonstrations_and_query_on_lines():
    assert build_prompt([], "the opposite of up is") == "the opposite of up is"
    assert build_prompt(["the opposite of hot is cold.", "the opposite of wet is dry."], "the opposite of up is",
                        description="give the opposite of each word.") == (
        "give the opposite of each word.\nthe opposite of hot is cold.\nthe opposite of wet is dry.\n"
        "the opposite of up is")
    assert build_prompt(["1 2", "3 4"], "5", separator=" | ") == "1 2 | 3 4 | 5"
    with pytest.raises(TypeError, match="list of strings"):
        build_prompt("the opposite of hot is cold.", "the opposite of up is")


@pytest.mark.parametrize("name", ["opposites", "arithmetic", "qa"])
def test_build_prompt_agrees_with_tinyworld_few_shot_prompt(name):
    task = tasks(seed=0)[name]
    query = task.heldout[0] if task.heldout else task.examples[-1]
    for k in (0, 1, 3):
        shots = task.examples[:k]
        for with_description in (False, True):
            ours = build_prompt([task.demonstration(s) for s in shots], query.prompt,
                                task.description if with_description else None)
            assert ours == task.few_shot_prompt(query, shots, with_description=with_description)


def test_few_shot_prompts_are_k_demonstrations_then_the_query_and_never_the_query_itself():
    task = tasks(seed=0)["opposites"]
    queries = task.examples[:10]
    assert few_shot_prompts(task, queries, 0) == [q.prompt for q in queries]  # zero-shot
    prompts = few_shot_prompts(task, queries, 3, seed=1, with_description=True)
    for query, prompt in zip(queries, prompts):
        lines = prompt.split("\n")
        assert len(lines) == 5 and lines[0] == task.description and lines[-1] == query.prompt
        assert task.demonstration(query) not in lines[1:4]
        assert all(line in {task.demonstration(e) for e in task.examples} for line in lines[1:4])
    assert few_shot_prompts(task, queries, 3, seed=1, with_description=True) == prompts  # seeded
    assert few_shot_prompts(task, queries, 3, seed=2, with_description=True) != prompts
    with pytest.raises(ValueError, match="only"):
        few_shot_prompts(task, queries, len(task.examples))
