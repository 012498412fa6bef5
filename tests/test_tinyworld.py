import hashlib
import os
import re
import subprocess
import sys
from collections import Counter

import pytest

from minigpt.tinyworld import (
    CHARSET, HELDOUT, World, acceptability, category_classification, context_mapping_task, corpus_stats, describe,
    generate_corpus, tasks,
)
from minigpt.tinyworld.facts import fact_forms, fact_items, fact_line
from minigpt.tinyworld.world import article, plural

TASK_KINDS = {"opposites", "plurals", "categories", "colours", "arithmetic", "translation", "qa"}
NUMBERS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen " \
          "sixteen seventeen eighteen".split()


@pytest.fixture(scope="module")
def corpus():
    return generate_corpus(seed=0)


@pytest.fixture(scope="module")
def task_map():
    return tasks(seed=0)


# ---- the text ----------------------------------------------------------------------------------------------

def test_same_seed_gives_the_same_text_and_another_seed_other_text(corpus):
    assert generate_corpus(seed=0) == corpus
    assert generate_corpus(seed=1) != corpus


def test_text_is_identical_in_a_fresh_process_with_another_hash_seed(corpus):
    code = ("import hashlib; from minigpt.tinyworld import generate_corpus; "
            "print(hashlib.sha256(generate_corpus(seed=0).encode()).hexdigest())")
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == hashlib.sha256(corpus.encode()).hexdigest()


@pytest.mark.parametrize("n_chars", [50_000, 300_000])
def test_size_is_close_to_n_chars(n_chars):
    assert abs(len(generate_corpus(seed=3, n_chars=n_chars)) - n_chars) < 0.1 * n_chars


def test_default_corpus_is_about_one_and_a_half_megabytes(corpus):
    assert abs(len(corpus) - 1_500_000) < 150_000


def test_corpus_uses_only_the_small_lowercase_charset(corpus):
    assert len(set(CHARSET)) == len(CHARSET)
    assert set(corpus) <= set(CHARSET), sorted(set(corpus) - set(CHARSET))
    assert not any(c.isupper() for c in CHARSET)


def test_vocabulary_is_moderate_and_lex_lines_are_a_minor_share(corpus):
    stats = corpus_stats(corpus)
    assert 200 < stats["distinct_words"] < 800, stats
    assert 0.10 <= stats["lex_fraction"] <= 0.20, stats


def test_describe_names_every_kind_of_sentence():
    summary = describe()
    for words in ("animals", "people", "opposites", "plurals", "categories", "colours", "arithmetic",
                  "translation", "qa", "lex"):
        assert words in summary


# ---- held-out items --------------------------------------------------------------------------------------

def handwritten_forms(world, task, item):
    """Every way the corpus could state a held-out item, written out independently of grammar.py."""
    if task == "opposites":
        forms = []
        for x, y in (item, item[::-1]):
            forms += [f"opposite of {x} is {y}", f"{x} is the opposite of {y}", f"{x} and {y} are opposites"]
        return forms
    if task == "plurals":
        p = plural(item)
        return [f"one {item}, two {p}", f"plural of {item} is {p}", f"one {item}, many {p}"]
    if task == "categories":
        c = world.animals[item]
        cs = {"fish": "fish"}.get(c, c + "s")
        return [f"{article(item)} is a kind of {c}", f"{article(item)} is {article(c)}", f"{plural(item)} are {cs}",
                f"what kind of animal is {article(item)}? a: {article(c)}"]
    if task == "colours":
        c = world.colour_of[item]
        return [f"{item} is {c}", f"colour of {item} is {c}", f"what colour is {item}? {c}",
                f"what colour is {item}? a: {c}"]
    if task == "arithmetic":
        a, b = item
        w = NUMBERS
        return [f"{w[a]} plus {w[b]} is {w[a + b]}", f"{a} plus {b} is {a + b}", f"what is {w[a]} plus {w[b]}?",
                f"{a} plus {b} = {a + b}", f"{w[a]} and {w[b]} make", f"{w[a + b]} minus {w[b]} is {w[a]}",
                f"{a + b} minus {b} = {a}"]
    if task == "translation":
        z = world.lexicon[item]
        return [f"english: {item} = zorbish: {z}\n", f"zorbish: {z} = english: {item}\n",
                f"in zorbish, {item} is '{z}'", f"zorbish word for {item} is {z}", f"'{z}' is zorbish for {item}"]
    name, relation = item
    person = world.person(name)
    answer = {"home": f"in the {person.home}", "pet": article(person.pet), "food": person.food}[relation]
    question = {"home": f"where does {name} live?", "pet": f"what pet does {name} have?",
                "food": f"what food does {name} like?"}[relation]
    return [f"{question} a: {answer}", f"{question} answer: {answer}"]


@pytest.mark.parametrize("task", sorted(TASK_KINDS))
def test_heldout_items_never_appear_in_any_form_of_their_task(corpus, task):
    world = World()
    heldout = [i for i in fact_items(world, task, include_heldout=True) if i not in fact_items(world, task)]
    assert heldout and len(heldout) >= len(HELDOUT[task])
    for item in heldout:
        written = handwritten_forms(world, task, item)
        from_grammar = [fact_line(world, task, item, form) for form in fact_forms(task, item)]
        for form in written + from_grammar:
            assert form not in corpus, f"held-out {task} item {item} appears as {form!r}"


def test_word_problems_are_correct_and_skip_heldout_sums(corpus):
    got = re.findall(r"had (\w+) \w+\. (?:he|she) got (\w+) more\. now (?:he|she) has (\w+) ", corpus)
    gave = re.findall(r"had (\w+) \w+\. (?:he|she) gave (\w+) to \w+\. now (?:he|she) has (\w+) ", corpus)
    assert len(got) > 100 and len(gave) > 100
    sums = [(NUMBERS.index(a), NUMBERS.index(b), NUMBERS.index(c)) for a, b, c in got]
    sums += [(NUMBERS.index(a), NUMBERS.index(b), NUMBERS.index(c)) for c, b, a in gave]
    for a, b, c in sums:
        assert a + b == c and (a, b) not in HELDOUT["arithmetic"]


@pytest.mark.parametrize("name", sorted(TASK_KINDS))
def test_every_example_occurs_in_the_corpus_and_no_heldout_one_does(corpus, task_map, name):
    task = task_map[name]
    for example in task.examples:
        assert task.demonstration(example) in corpus, task.demonstration(example)
    for example in task.heldout:
        assert example.prompt + example.answer not in corpus


def test_heldout_words_still_occur_elsewhere_as_cues(corpus):
    world = World()
    for a, b in HELDOUT["opposites"]:
        assert f" {a}" in corpus and f" {b}" in corpus
        assert f"was {a}, but then it was {b}." in corpus or f"was {b}, but then it was {a}." in corpus
    for noun in HELDOUT["plurals"]:
        assert f" {plural(noun)} " in corpus or f" {plural(noun)}." in corpus
    for animal in HELDOUT["categories"]:
        actions = world.actions[world.animals[animal]]
        assert any(f"the {animal} {act}." in corpus for act in actions), animal
    for thing in HELDOUT["colours"]:
        assert world.colour_of[thing] + " " + thing.split()[-1] in corpus, thing
    for a, b in HELDOUT["arithmetic"]:
        assert (b, a) not in HELDOUT["arithmetic"]
        assert f"{NUMBERS[b]} plus {NUMBERS[a]} is {NUMBERS[a + b]}." in corpus
    for word in HELDOUT["translation"]:
        assert f" {world.lexicon[word]} " in corpus or f" {world.lexicon[word]}\n" in corpus
    for name, relation in HELDOUT["qa"]:
        person = world.person(name)
        fact = {"home": f"{name} lives in the {person.home}.", "pet": f"{name} has a pet {person.pet}.",
                "food": f"{name} likes {person.food}."}[relation]
        assert fact in corpus, fact


# ---- tasks -----------------------------------------------------------------------------------------------

def test_every_task_kind_is_present_with_examples_and_heldout_items(task_map):
    assert set(task_map) == TASK_KINDS
    for task in task_map.values():
        assert len(task.examples) >= 20 and len(task.heldout) >= 6, task.name
        assert task.description and "{prompt}" in task.template and "{answer}" in task.template


@pytest.mark.parametrize("name", sorted(TASK_KINDS))
def test_choices_are_distinct_contain_the_answer_and_number_at_least_four(task_map, name):
    for example in task_map[name].examples + task_map[name].heldout:
        assert example.answer in example.choices
        assert len(set(example.choices)) == len(example.choices) >= 4
        assert example.answer.startswith(" ") and not example.prompt.endswith(" ")
        assert all(choice.startswith(" ") for choice in example.choices)


def test_tasks_are_deterministic_and_the_seed_only_moves_the_choices(task_map):
    assert tasks(seed=0) == task_map
    other = tasks(seed=1)
    for name, task in task_map.items():
        assert [(e.prompt, e.answer) for e in task.examples] == [(e.prompt, e.answer) for e in other[name].examples]
    assert any(task.examples != other[name].examples for name, task in task_map.items())


def test_known_prompts_and_answers(task_map):
    pairs = {(e.prompt, e.answer) for task in task_map.values() for e in task.examples + task.heldout}
    for pair in [("the opposite of hot is", " cold"), ("one fox, two", " foxes"), ("one mouse, two", " mice"),
                 ("a robin is a kind of", " bird"), ("what colour is a banana?", " yellow"),
                 ("three plus four is", " seven"), ("english: dog = zorbish:", " kava"),
                 ("q: where does tom live? a:", " in the forest")]:
        assert pair in pairs, pair


def test_all_forms_asks_each_item_in_every_form_that_ends_with_the_answer(corpus, task_map):
    every = tasks(seed=0, all_forms=True)
    for name, task in every.items():
        first = task_map[name]
        assert set(first.heldout) <= set(task.heldout) and set(first.examples) <= set(task.examples)
        for example in task.heldout:
            assert example.prompt + example.answer not in corpus, (name, example)
        by_answer_and_choices = {(e.answer, e.choices) for e in task.heldout}
        assert len(by_answer_and_choices) <= len(first.heldout)  # one set of choices per item, in every form
    counts = {name: len(task.heldout) / len(task_map[name].heldout) for name, task in every.items()}
    assert counts["colours"] == 4 and counts["plurals"] == 3 and counts["qa"] == 2
    assert 3 < counts["categories"] < 4  # "sharks are fish." ends with the answer; "swans are birds." does not
    prompts = {e.prompt for e in every["colours"].heldout}
    assert {"a lemon is", "the colour of a lemon is", "q: what colour is a lemon? a:"} <= prompts
    assert "cold is the opposite of" not in {e.prompt for e in every["opposites"].examples}  # asks for hot


def test_few_shot_prompt_is_demonstration_lines_then_the_query(task_map):
    task = task_map["opposites"]
    query, shots = task.heldout[0], task.examples[:2]
    prompt = task.few_shot_prompt(query, shots, with_description=True)
    assert prompt.split("\n") == [task.description, "the opposite of hot is cold.", "the opposite of cold is hot.",
                                  query.prompt]
    assert task.few_shot_prompt(query) == query.prompt


# ---- GPT-1's classification dataset -------------------------------------------------------------------------

def test_classification_train_and_test_animals_are_disjoint_and_labels_valid():
    data = category_classification(seed=0)
    world = World()
    assert data.label_names == ("bird", "fish", "mammal", "insect", "reptile")
    assert not set(data.train_entities) & set(data.test_entities)
    assert 40 <= len(data.train_entities) and 35 <= len(data.test_entities)
    for rows, entities in ((data.train, data.train_entities), (data.test, data.test_entities)):
        for text, label in rows:
            assert 0 <= label < len(data.label_names)
            animal = next(a for a in entities if f" {a} " in f" {text[:-1]} ")
            assert data.label_names[label] == world.animals[animal]
        counts = Counter(label for _, label in rows)
        assert max(counts.values()) <= 1.5 * min(counts.values())
    for text, _ in data.test:
        assert not any(f" {a} " in f" {text[:-1]} " for a in data.train_entities), text


def test_every_test_animal_has_its_category_stated_and_appears_in_stories(corpus):
    data = category_classification(seed=0)
    world = World()
    stories = "\n".join(p for p in corpus.split("\n\n") if " went to the " in p or " walked to the " in p)
    for animal in data.test_entities:
        assert f"{article(animal)} is a kind of {world.animals[animal]}." in corpus, animal
        assert f"the {animal} " in stories, animal


# ---- lex lines and the context-mapping task -------------------------------------------------------------------

def parse_lex(line):
    pairs = [pair.split(" -> ") for pair in line[len("lex: "):].split(", ")]
    assert all(len(pair) == 2 for pair in pairs), line
    return pairs


def test_lex_lines_are_consistent_within_a_line_and_fresh_across_lines(corpus):
    lines = [line for line in corpus.split("\n") if line.startswith("lex: ")]
    assert len(lines) > 500
    mappings = []
    for line in lines:
        mapping = {}
        for key, value in parse_lex(line):
            assert mapping.setdefault(key, value) == value, line
        assert len(set(mapping.values())) == len(mapping)
        mappings.append(tuple(sorted(mapping.items())))
    assert len(set(mappings)) > 0.95 * len(mappings)
    values_of_key = {}
    for mapping in mappings:
        for key, value in mapping:
            values_of_key.setdefault(key, set()).add(value)
    assert sum(len(v) > 1 for v in values_of_key.values()) > 0.5 * len(values_of_key)
    with_a_repeat = [line for line in lines if max(Counter(k for k, _ in parse_lex(line)).values()) > 1]
    assert len(with_a_repeat) > 0.9 * len(lines)  # so that copying from the context pays


def test_lex_keys_are_not_words_of_the_world(corpus):
    words = Counter(w.strip(".,?:;'") for line in corpus.split("\n") if not line.startswith("lex: ")
                    for w in line.split())
    keys = {k for line in corpus.split("\n") if line.startswith("lex: ") for k, _ in parse_lex(line)}
    assert not keys & set(words)


@pytest.mark.parametrize("n_pairs", [0, 1, 4, 8])
def test_context_mapping_examples_can_be_answered_only_from_their_context(n_pairs):
    examples = context_mapping_task(seed=0, n_pairs=n_pairs, n_examples=50)
    assert len(examples) == 50 and examples == context_mapping_task(seed=0, n_pairs=n_pairs, n_examples=50)
    for example in examples:
        assert example.prompt.startswith("lex: ") and example.prompt.endswith(" ->")
        assert example.answer in example.choices and len(set(example.choices)) == len(example.choices) == 4
        shown = parse_lex(example.prompt[: -len(" ->")].rsplit(", ", 1)[0]) if n_pairs else []
        assert len(shown) == n_pairs
        query = example.prompt[: -len(" ->")].rsplit(" ", 1)[-1]
        if n_pairs:
            assert [query, example.answer[1:]] in shown
    first = {e.prompt for e in context_mapping_task(seed=0, n_pairs=n_pairs, n_examples=50)}
    assert first != {e.prompt for e in context_mapping_task(seed=1, n_pairs=n_pairs, n_examples=50)}


def test_any_key_queries_are_sometimes_unshown_and_then_unanswerable_from_context():
    examples = context_mapping_task(seed=0, n_pairs=2, n_examples=200, query="any")
    unshown = 0
    for example in examples:
        body = example.prompt[: -len(" ->")]
        shown_keys = [key for key, _ in parse_lex(body.rsplit(", ", 1)[0])]
        query = body.rsplit(" ", 1)[-1]
        assert example.answer in example.choices
        unshown += query not in shown_keys
    # two draws from four keys miss the queried key with probability (3/4)^2 = 0.56
    assert 0.4 < unshown / len(examples) < 0.7
    with pytest.raises(ValueError, match="query"):
        context_mapping_task(query="all")


def test_context_mapping_format_follows_the_keys_and_arrow_given():
    keys = ["bim", "taf", "wop", "kel", "dov"]
    for example in context_mapping_task(seed=0, n_pairs=3, n_examples=20, keys=keys, arrow=" "):
        words = example.prompt[len("lex: "):].replace(",", "").split()
        assert "->" not in words and words[-1] in keys
        assert all(word in keys for word in words[0::2])  # key, word, key, word, ..., key


def test_acceptability_splits_are_distinct_balanced_and_shuffles_are_real():
    data = acceptability(seed=1)
    assert data == acceptability(seed=1)  # deterministic
    assert len(data.train) == 600 and len(data.test) == 400
    assert not {s for s, _ in data.train} & {s for s, _ in data.test}
    for split in (data.train, data.test):
        assert sum(label for _, label in split) == len(split) // 2
    corpus = generate_corpus(seed=1001, n_chars=300_000)
    assert max(len(s) for s, _ in data.train + data.test) <= 60
    for sentence, label in data.train[:100]:
        if label == 1:
            assert sentence in corpus  # written as the generator wrote it
        else:
            assert sentence[-1] in ".?"  # only the words moved; the final mark stays
