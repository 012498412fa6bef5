"""Zero- and few-shot evaluation: build prompts as text, and score answers by their likelihood.

GPT-2's claim is that a language model performs tasks it was never trained for when they are
written as text: "the opposite of hot is" -> " cold". To measure that, nothing is generated.
Each candidate answer y (a continuation of the prompt x) is scored by how likely the model finds it,

    score(y | x) = sum_t log P(y_t | x, y_<t)               (normalize="sum")
    score(y | x) = 1/|y| * sum_t log P(y_t | x, y_<t)       (normalize="mean", |y| tokens)

and the highest-scoring candidate is the model's answer. One forward pass over the tokens of
x followed by those of y gives every term: the logits at position t score token t + 1.
greedy_completion and greedy_accuracy are the other way: let the model write, then compare.

Prompt and continuation are encoded separately and concatenated, so that the continuation's
tokens are the same whatever the prompt (a tinyworld answer starts with its space, " cold", and
the prompt has no trailing space). A sequence longer than the model's context loses tokens from
the left of the prompt, never from the continuation.
"""
import random
from contextlib import contextmanager

import torch

NORMALIZATIONS = ("mean", "sum")


def token_logprobs(logits, tokens, n_prompt):
    """log P(tokens[t] | tokens[:t]) for each continuation token t = n_prompt, ..., T-1.

    logits (T, V): one forward pass over the whole sequence tokens (T,), of which the first
    n_prompt tokens are the prompt. Position t has seen tokens 0..t, so logits[t] scores token
    t + 1: the continuation tokens[n_prompt:] are scored by logits[n_prompt - 1 : -1], and the
    last position's logits, a prediction past the end, are not used. Returns (T - n_prompt,).
    A batch works the same: logits (N, T, V) and tokens (N, T) give (N, T - n_prompt).
    """
    length = tokens.size(-1)
    if not 1 <= n_prompt < length:
        raise ValueError(f"n_prompt={n_prompt} must be between 1 and {length - 1} (the sequence has "
                         f"{length} tokens): the first continuation token needs a token before it")
    log_probs = torch.log_softmax(logits[..., n_prompt - 1 : -1, :], dim=-1)  # (T, V) -> (T - n_prompt, V)
    targets = tokens[..., n_prompt:].unsqueeze(-1)  # (T - n_prompt, 1)
    return log_probs.gather(-1, targets).squeeze(-1)  # (T - n_prompt,)


def continuation_logprobs(model, tokenizer, prompt, continuation):
    """log P(y_t | x, y_<t) for each token y_t of `continuation` y after `prompt` x: a (len(y),) tensor.

    Their sum is score(y | x) = sum_t log P(y_t | x, y_<t). When prompt + continuation do not fit
    in model.config.block_size, tokens are dropped from the left of the prompt.
    """
    prompt_ids, continuation_ids = encode_pair(tokenizer, prompt, continuation, model.config.block_size)
    tokens = torch.tensor(prompt_ids + continuation_ids, device=_device(model))  # (T,)
    with _evaluating(model):
        logits, _ = model(tokens[None])  # (1, T) -> (1, T, V)
    return token_logprobs(logits[0], tokens, len(prompt_ids))


def score_choices(model, tokenizer, prompt, choices, *, normalize="mean"):
    """score(y | prompt) for each candidate continuation y in `choices`, as a list of floats.

    normalize="sum": the summed log-probability, log P(y | x), the likelihood of the whole answer.
    normalize="mean": the sum divided by the number of tokens of y. Every token adds a negative
    term to the sum, so the sum favours short answers; the mean, the log-likelihood per token,
    compares answers of different lengths on an equal footing.
    """
    return score_many(model, tokenizer, [(prompt, choices)], normalize)[0]


LOGITS_BUDGET = 2**24  # floats of logits per forward pass (64 MB): sets how many sequences share a batch


def score_many(model, tokenizer, queries, normalize="mean"):
    """score_choices for many queries at once: queries is a list of (prompt, choices); returns a list
    with a list of scores per query (batched by continuations_logprobs)."""
    _check_normalize(normalize)
    pairs, owner = [], []  # one (prompt, choice) per sequence, and the query it belongs to
    for q, (prompt, choices) in enumerate(queries):
        if not choices:
            raise ValueError("score_choices needs at least one choice to score")
        pairs += [(prompt, choice) for choice in choices]
        owner += [q] * len(choices)
    scores = [[] for _ in queries]
    for q, logprobs in zip(owner, continuations_logprobs(model, tokenizer, pairs)):
        scores[q].append((logprobs.mean() if normalize == "mean" else logprobs.sum()).item())
    return scores


def continuations_logprobs(model, tokenizer, pairs):
    """continuation_logprobs for many (prompt, continuation) pairs at once: a list of (len(y),) tensors.

    All the sequences go through the model together, in batches right-padded to the longest sequence:
    attention is causal, so the padding after a sequence does not change the logits of its own positions.
    A batch holds as many sequences as fit in LOGITS_BUDGET floats of logits.
    """
    block_size = model.config.block_size
    encoded = [encode_pair(tokenizer, prompt, continuation, block_size) for prompt, continuation in pairs]
    longest = max((len(p) + len(c) for p, c in encoded), default=1)
    per_batch = max(1, LOGITS_BUDGET // (longest * model.config.vocab_size))
    results = []
    for start in range(0, len(encoded), per_batch):
        chunk = encoded[start : start + per_batch]
        batch = torch.zeros(len(chunk), max(len(p) + len(c) for p, c in chunk), dtype=torch.long,
                            device=_device(model))  # padding id 0
        for i, (prompt_ids, continuation_ids) in enumerate(chunk):
            batch[i, : len(prompt_ids) + len(continuation_ids)] = torch.tensor(prompt_ids + continuation_ids)
        with _evaluating(model):
            logits, _ = model(batch)  # (N, T_max) -> (N, T_max, V)
            scored = token_logprobs(logits, batch, 1).cpu()  # every token after the first, one call for the batch
        for i, (prompt_ids, continuation_ids) in enumerate(chunk):
            n = len(prompt_ids) + len(continuation_ids)
            results.append(scored[i, len(prompt_ids) - 1 : n - 1])  # the continuation's tokens; padding left out
    return results


def predict(model, tokenizer, example, prompt=None, *, normalize="mean"):
    """The choice of a tinyworld Example with the highest score after `prompt` (default: example.prompt)."""
    return predictions(model, tokenizer, [example], None if prompt is None else [prompt], normalize=normalize)[0]


def predictions(model, tokenizer, examples, prompts=None, *, normalize="mean"):
    """The highest-scoring choice of each example (the first of equal best scores), all scored in batches."""
    examples, prompts = _examples_and_prompts(examples, prompts)
    all_scores = score_many(model, tokenizer, [(p, ex.choices) for ex, p in zip(examples, prompts)], normalize)
    return [ex.choices[max(range(len(s)), key=s.__getitem__)] for ex, s in zip(examples, all_scores)]


def accuracy(model, tokenizer, examples, prompts=None, *, normalize="mean"):
    """The fraction of `examples` whose highest-scoring choice is the answer.

    prompts: one prompt per example (a few-shot prompt built with build_prompt, say); by default
    each example's own prompt, which is zero-shot.
    """
    examples, prompts = _examples_and_prompts(examples, prompts)
    guesses = predictions(model, tokenizer, examples, prompts, normalize=normalize)
    return sum(guess == ex.answer for guess, ex in zip(guesses, examples)) / len(examples)


def task_accuracies(model, tokenizer, tasks, *, split="heldout", normalize="mean"):
    """{task name: zero-shot accuracy} for a dict of tinyworld Tasks, on each task's held-out items
    (split="heldout": never stated in the task's forms) or on the items the text states ("examples")."""
    if split not in ("heldout", "examples"):
        raise ValueError(f'split={split!r} must be "heldout" or "examples"')
    return {name: accuracy(model, tokenizer, getattr(task, split), normalize=normalize) for name, task in tasks.items()}


def greedy_completion(model, tokenizer, prompt, *, max_new_tokens=12, stop=("\n", ".")):
    """What the model writes after `prompt` when it always picks the most likely token (temperature 0),
    cut just before the first stop string. The prompt keeps its last block_size tokens."""
    return completion(model, tokenizer, prompt, max_new_tokens=max_new_tokens, stop=stop, temperature=0)


def completion(model, tokenizer, prompt, *, max_new_tokens=12, stop=("\n", "."), temperature=1.0, seed=0):
    """What the model writes after `prompt`, sampled at `temperature` (0: greedy) with a generator seeded
    by `seed`, so the same call gives the same text; cut just before the first stop string."""
    ids = tokenizer.encode(prompt)[-model.config.block_size :]
    if not ids:
        raise ValueError("the prompt is empty: give the model at least one token to continue")
    idx = torch.tensor([ids], device=_device(model))  # (1, T)
    generator = torch.Generator(device=idx.device).manual_seed(seed)
    out = model.generate(idx, max_new_tokens, temperature=temperature, generator=generator)  # eval mode inside
    text = tokenizer.decode(out[0, len(ids) :])
    cut = min((text.find(s) for s in stop if s in text), default=len(text))
    return text[:cut]


def greedy_accuracy(model, tokenizer, examples, prompts=None, *, max_new_tokens=12):
    """The fraction of `examples` whose greedy completion is right, by this rule: the completion with the
    white space at both ends stripped starts with the answer stripped the same way.

    " cold" after "the opposite of hot is" is right; so is " cold and wet" (the answer, then more), and,
    since it is a prefix test, " colder". An empty completion is wrong.
    """
    examples, prompts = _examples_and_prompts(examples, prompts)
    right = 0
    for example, prompt in zip(examples, prompts):
        completion = greedy_completion(model, tokenizer, prompt, max_new_tokens=max_new_tokens).strip()
        right += bool(completion) and completion.startswith(example.answer.strip())
    return right / len(examples)


def build_prompt(demonstrations, query, description=None, separator="\n"):
    """A few-shot prompt: the description (if any), then one line per solved demonstration, then the
    query to be continued, joined by `separator`. With no demonstrations it is a zero-shot prompt.

    build_prompt(["the opposite of hot is cold."], "the opposite of up is")
    == "the opposite of hot is cold.\\nthe opposite of up is"
    """
    if isinstance(demonstrations, str):
        raise TypeError("demonstrations must be a list of strings, one per solved example, not one string")
    lines = ([description] if description else []) + list(demonstrations) + [query]
    return separator.join(lines)


def few_shot_prompts(task, queries, k, *, seed=0, with_description=False):
    """One K-shot prompt per query of a tinyworld Task: k solved demonstrations drawn at random from
    task.examples (never the query itself), one per line, then the query's prompt.

    GPT-3's zero-, one- and few-shot settings are this function with k = 0, 1 and K: the model is the
    same and only the prompt changes. The draw depends on seed, so a spread over seeds measures how
    much the choice and the order of the demonstrations move the accuracy.
    """
    if k < 0:
        raise ValueError(f"k={k}: the number of demonstrations cannot be negative")
    rng = random.Random(f"few-shot:{seed}:{task.name}:{k}")
    prompts = []
    for query in queries:
        pool = [e for e in task.examples if e.prompt != query.prompt]
        if k > len(pool):
            raise ValueError(f"k={k} demonstrations asked for, but the task has only {len(pool)} to draw from")
        prompts.append(task.few_shot_prompt(query, rng.sample(pool, k), with_description))
    return prompts


def encode_pair(tokenizer, prompt, continuation, block_size):
    """(prompt ids, continuation ids), encoded separately, with the prompt cut from the left so that
    both fit in block_size tokens. The continuation is never cut."""
    prompt_ids, continuation_ids = tokenizer.encode(prompt), tokenizer.encode(continuation)
    if not continuation_ids:
        raise ValueError(f"the continuation {continuation!r} encodes to no tokens; there is nothing to score")
    if len(continuation_ids) > block_size - 1:
        raise ValueError(f"the continuation has {len(continuation_ids)} tokens but block_size is {block_size}: "
                         f"it must fit with at least one prompt token before it ({block_size - 1} tokens at most)")
    if not prompt_ids:
        raise ValueError("the prompt is empty, so nothing predicts the continuation's first token; "
                         "start the prompt with a token (a newline, or '<|endoftext|>' if the tokenizer has it)")
    keep = block_size - len(continuation_ids)
    return prompt_ids[-keep:], continuation_ids


def _examples_and_prompts(examples, prompts):
    examples = list(examples)
    if not examples:
        raise ValueError("no examples to evaluate on")
    if prompts is None:
        return examples, [ex.prompt for ex in examples]
    prompts = list(prompts)
    if len(prompts) != len(examples):
        raise ValueError(f"got {len(prompts)} prompts for {len(examples)} examples; give one prompt per example")
    return examples, prompts


def _check_normalize(normalize):
    if normalize not in NORMALIZATIONS:
        raise ValueError(f'normalize={normalize!r} must be "mean" (log-likelihood per token) or "sum"')


def _device(model):
    return next(model.parameters()).device


@contextmanager
def _evaluating(model):
    """Eval mode (no dropout) and no gradients inside; the model's train/eval mode is restored after."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        model.train(was_training)
