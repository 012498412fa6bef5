"""The tasks hidden in TinyWorld's text, as prompts with answers and choices, and a labelled dataset.

tasks(seed) -> {name: Task} for opposites, plurals, categories, colours, arithmetic, translation, qa.
A Task asks in the first form of its grammar list ("the opposite of hot is" -> " cold"); its
`examples` occur in the training text, its `heldout` items never do in any of the task's forms.
With all_forms=True it asks about each item in every form that ends with the answer ("what colour
is a lemon?", "a lemon is", "the colour of a lemon is", ...), with the same choices in each form.
Every Example has 4 choices (the answer and 3 wrong answers of the same kind), so chance is 25%.
context_mapping_task(seed, n_pairs=k) asks about lex lines (mapping.py): only the context gives the answer.
category_classification(seed) is the labelled dataset of GPT-1's fine-tuning step.
"""
import random
from dataclasses import dataclass

from . import grammar as g
from .facts import fact_forms, fact_items, fact_line, qa_answer
from .mapping import ARROW, format_pairs, fresh_mapping, nonsense_keys
from .text import generate_corpus
from .world import World, article, plural

N_DISTRACTORS = 3


@dataclass(frozen=True)
class Example:
    """prompt: the text a model continues; answer: the right continuation; choices: candidates incl. answer."""

    prompt: str
    answer: str
    choices: tuple


@dataclass(frozen=True)
class Task:
    """A task as text: a description (an instruction), a demonstration template and two sets of examples."""

    name: str
    description: str
    template: str  # formats one demonstration: template.format(prompt=..., answer=...)
    examples: tuple  # items that occur in the training text (use them as demonstrations)
    heldout: tuple  # items that never occur in the task's forms (evaluate on them)

    def demonstration(self, example):
        """One solved example as a line of text: 'the opposite of hot is cold.'"""
        return self.template.format(prompt=example.prompt, answer=example.answer)

    def few_shot_prompt(self, query, shots=(), with_description=False):
        """Demonstration lines, then the query's prompt, joined by newlines (optionally after the description)."""
        lines = ([self.description] if with_description else []) + [self.demonstration(s) for s in shots]
        return "\n".join(lines + [query.prompt])


def answer_text(world, task, item):
    """The words that complete a task's prompt for one item (without the leading space)."""
    if task == "opposites":
        return item[1]
    if task == "plurals":
        return plural(item)
    if task == "categories":
        return world.animals[item]
    if task == "colours":
        return world.colour_of[item]
    if task == "arithmetic":
        return world.numbers[sum(item)]
    if task == "translation":
        return world.lexicon[item]
    person = world.person(item[0])
    return ("in the " if item[1] == "home" else "") + qa_answer(person, item[1])


def distractors(world, task, item, answer):
    """Wrong answers of the same kind, in a fixed order (the caller samples from them)."""
    if task == "opposites":
        return [w for a, b, _ in world.opposites for w in (a, b) if w not in item]
    if task == "plurals":
        variants = [item, item + "s", item + "es", item + "en"]  # the singular and plausible misspellings
        return [v for v in variants if v != answer]
    if task == "categories":
        return [c for c in world.categories if c != answer]
    if task == "colours":
        return [c for c in world.colours if c != answer]
    if task == "arithmetic":
        total = sum(item)
        return [world.numbers[n] for n in range(total - 3, total + 4) if 0 <= n <= 20 and n != total]
    if task == "translation":
        same_kind = world.zorbish_adjectives if item in world.zorbish_adjectives else world.zorbish_nouns
        return [z for z in same_kind.values() if z != answer]
    relation = item[1]
    others = [answer_text(world, task, (p.name, relation)) for p in world.people]
    return [o for o in dict.fromkeys(others) if o != answer]


def make_examples(world, task, item, rng, *, all_forms=False):
    """Split the task's first form (or each form) at the answer: prompt, " " + answer, shuffled choices.

    A form counts when its sentence ends with the answer: "cold is the opposite of hot." asks for
    hot, not for cold, so it is not a form of the item (hot, cold). The first form always ends so.
    """
    answer = answer_text(world, task, item)
    choices = [answer] + rng.sample(distractors(world, task, item, answer), N_DISTRACTORS)
    rng.shuffle(choices)
    choices = tuple(" " + c for c in choices)
    forms = fact_forms(task, item)
    examples = []
    for form in forms if all_forms else forms[:1]:
        sentence = fact_line(world, task, item, form)
        body = sentence[:-1] if sentence.endswith(".") else sentence
        if body.endswith(" " + answer):
            examples.append(Example(body[: -len(answer) - 1], " " + answer, choices))
    assert examples, (task, item, answer)
    return examples


def tasks(seed=0, world=None, all_forms=False):
    """{name: Task} for every task kind; the seed only decides the distractors and their order.

    all_forms=False: one Example per item, in the form the task asks in. all_forms=True: one per item
    and form, the same item asked in other words (more prompts per held-out item, same choices).
    """
    world = world or World()
    result = {}
    for name, description in g.TASK_DESCRIPTIONS.items():
        rng = random.Random(f"tasks:{seed}:{name}")
        items = fact_items(world, name, include_heldout=True)
        shown = fact_items(world, name)
        heldout = [item for item in items if item not in shown]
        ends_with_period = fact_forms(name, items[0])[0].endswith(".")
        examples = [make_examples(world, name, item, rng, all_forms=all_forms) for item in shown]
        heldout = [make_examples(world, name, item, rng, all_forms=all_forms) for item in heldout]
        result[name] = Task(
            name=name, description=description,
            template="{prompt}{answer}" + ("." if ends_with_period else ""),
            examples=tuple(e for group in examples for e in group),
            heldout=tuple(e for group in heldout for e in group),
        )
    return result


# ---- In-context learning: lex lines (mapping.py) --------------------------------------------------------

def context_mapping_task(seed=0, *, n_pairs=4, n_keys=4, n_examples=200, query="shown", keys=None, arrow=ARROW):
    """Examples of the lex format with `n_pairs` demonstrations of a fresh mapping, then a query.

    prompt "lex: bim -> red, taf -> cold, bim ->", answer " red", choices the n_keys words of the
    mapping (shuffled). With n_pairs = 0 the prompt is "lex: bim ->" and nothing says which word
    is right: accuracy is 1/n_keys by construction. With n_pairs >= 1 and query="shown" the queried key is
    always one that the demonstrations showed, so a model that copies from its context is right; with
    query="any" it is any key of the mapping, so more demonstrations answer more queries (GPT-3's curve).
    keys (default: every nonsense key) and arrow choose the format, as for lex_line.
    """
    if n_keys < 4:
        raise ValueError(f"n_keys={n_keys}: the choices are the mapping's words, and an evaluation needs at least 4")
    if query not in ("shown", "any"):
        raise ValueError(f'query={query!r} must be "shown" (a key the demonstrations showed) or "any"')
    rng = random.Random(f"context-mapping:{seed}:{n_pairs}:{n_keys}")
    keys = list(keys or nonsense_keys())
    examples = []
    for _ in range(n_examples):
        mapping = fresh_mapping(rng, keys, n_keys)
        shown = [rng.choice(list(mapping)) for _ in range(n_pairs)]
        asked = rng.choice(shown) if shown and query == "shown" else rng.choice(list(mapping))
        demonstrations = format_pairs(((key, mapping[key]) for key in shown), arrow)
        prompt = g.LEX_PREFIX + (demonstrations + ", " if demonstrations else "") + asked + arrow.rstrip()
        choices = [" " + value for value in mapping.values()]
        rng.shuffle(choices)
        examples.append(Example(prompt, " " + mapping[asked], tuple(choices)))
    return tuple(examples)


# ---- GPT-1's fine-tuning data ---------------------------------------------------------------------------
CLASSIFICATION_FORMS = ("i saw {x}.", "there is {x} in the garden.", "look at that {s}.", "we found {x} today.",
                        "{x} was here.")  # no hint of the kind in the sentence itself


@dataclass(frozen=True)
class LabelledSentences:
    """Sentences with class labels, for GPT-1-style fine-tuning; train and test share no sentence."""

    label_names: tuple
    train: tuple  # (text, label index)
    test: tuple
    train_entities: tuple = ()  # for category_classification: the animals of each split (disjoint)
    test_entities: tuple = ()


def category_classification(seed=0, world=None):
    """Which kind of animal does a sentence mention? Test animals never occur in the training sentences.

    Only animals whose category the corpus states are used, so a pretrained model has read that
    "a robin is a kind of bird": knowledge a classifier trained on other animals can only get from there.
    """
    world = world or World()
    rng = random.Random(f"classification:{seed}")
    label_names = world.categories
    train_entities, test_entities = [], []
    for category in label_names:
        stated = [a for a in world.animals_of(category) if not world.is_heldout("categories", a)]
        rng.shuffle(stated)
        half = (len(stated) + 1) // 2
        train_entities += stated[:half]
        test_entities += stated[half:]

    def sentences(animals):
        rows = [(form.format(x=article(a), s=a), label_names.index(world.animals[a]))
                for a in animals for form in CLASSIFICATION_FORMS]
        rng.shuffle(rows)
        return tuple(rows)

    return LabelledSentences(label_names, sentences(train_entities), sentences(test_entities),
                              tuple(train_entities), tuple(test_entities))


def acceptability(seed=1, n_train=600, n_test=400, max_chars=60):
    """Is this a TinyWorld sentence, or the same words shuffled? GPT-1's CoLA task, in miniature.

    The sentences come from a corpus generated with seed 1000 + seed, so they are new text for a model
    pretrained on generate_corpus(seed=0) (sentences that are facts may recur; stories are mostly new).
    Train and test sentences are distinct; in each split half the sentences have their words shuffled
    (label 0, "shuffled"), the rest are left as written (label 1, "acceptable"). Sentences are at most
    max_chars characters long, so that with GPT-1's two extra tokens they fit a 64-token context.
    """
    rng = random.Random(f"acceptability:{seed}")
    text = generate_corpus(seed=1000 + seed, n_chars=300_000)
    sentences = sorted({s for line in text.split("\n") if not line.startswith("lex:")
                        for s in _split_sentences(line) if 4 <= len(s.split()) <= 9 and len(s) <= max_chars})
    rng.shuffle(sentences)
    if len(sentences) < n_train + n_test:
        raise ValueError(f"only {len(sentences)} distinct sentences; ask for fewer than {n_train} + {n_test}")

    def labelled(chunk):
        rows = []
        for i, sentence in enumerate(chunk):
            acceptable = i % 2 == 0
            rows.append((sentence if acceptable else _shuffle_words(sentence, rng), int(acceptable)))
        rng.shuffle(rows)
        return tuple(rows)

    return LabelledSentences(("shuffled", "acceptable"), labelled(sentences[:n_train]),
                             labelled(sentences[n_train : n_train + n_test]))


def _split_sentences(line):
    """Split a line of text after each '.' or '?' that ends a sentence."""
    parts, start = [], 0
    for i, char in enumerate(line):
        if char in ".?" and (i + 1 == len(line) or line[i + 1] == " "):
            parts.append(line[start : i + 1].strip())
            start = i + 1
    return [p for p in parts if p]


def _shuffle_words(sentence, rng):
    """The sentence's words in a new random order (its final punctuation stays last)."""
    words, end = sentence[:-1].split(), sentence[-1]
    order = list(range(len(words)))
    while order == sorted(order):  # make sure the order really changes
        rng.shuffle(order)
    return " ".join(words[i] for i in order) + end
