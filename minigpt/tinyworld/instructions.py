"""Instructions with demonstrations: the prompts of InstructGPT's step 1, and the answers a labeler would write.

Every instruction is a request about the World (prompt) with its demonstration (response) in one house style:

    lowercase, no more words than the request needs, and a full stop (or a question mark) at the end
    a word when a word is asked for           what is the opposite of hot?         -> cold.
    a phrase for a question about a person    where does tom live?                 -> in the forest.
    N items, commas between, when N are asked list three birds.                    -> robin, crow, owl.
    the numbers in between when counting      count from two to five.              -> two, three, four, five.
    three short sentences for a story         write a short story about tom.       -> tom went to the park. ...
    a clarifying question when the request    what pet does she have?              -> who do you mean?
      does not say who or what it is about
    a correction when it rests on a false     why is a banana blue?                -> a banana is yellow, not blue.
      premise

`item` holds what the request is about, for the gold labeler (labeler.py) to check any response against the
World. The test split asks about the items that world.HELDOUT keeps out of the training text (as tasks() does),
and holds out some people, kinds and numbers of the other kinds; the validation split is a seeded tenth of the
rest.
"""
import random
from dataclasses import dataclass

from .world import CATEGORY_PLURALS, World, article, plural

PROMPTS = {  # kind -> the wordings of its request
    "opposite": ("what is the opposite of {a}?", "give the opposite of {a}."),
    "plural": ("what is the plural of {s}?", "give the plural of {s}."),
    "category": ("what kind of animal is {x}?", "is {x} a bird, a fish, a mammal, an insect or a reptile?"),
    "colour": ("what colour is {x}?", "say what colour {x} is."),
    "translate": ("translate {e} into zorbish.", "what is {e} in zorbish?"),
    "home": ("where does {p} live?", "tell me where {p} lives."),
    "pet": ("what pet does {p} have?", "tell me what pet {p} has."),
    "food": ("what food does {p} like?", "tell me what food {p} likes."),
    "list": ("list {n} {things}.", "name {n} {things}."),
    "count": ("count from {a} to {b}.",),
    "story": ("write a short story about {x}.", "tell me a short story about {x}."),
    "ambiguous": ("where does {pro} live?", "what pet does {pro} have?", "what food does {pro} like?",
                  "what colour is it?", "what is the opposite?", "what is the plural?"),
    "false premise": ("why is {x} {wrong}?", "why does {p} live in the {wrong}?", "why does {p} have {wrong}?"),
}
CLARIFY = {"person": "who do you mean?", "thing": "what do you mean by it?", "word": "which word do you mean?"}
LIST_KINDS = ("birds", "fish", "mammals", "insects", "reptiles", "colours", "fruits")
KINDS = tuple(PROMPTS)


@dataclass(frozen=True)
class Instruction:
    kind: str
    prompt: str
    response: str  # the demonstration, in the house style
    item: tuple  # what it is about, for the labeler: ("hot", "cold"), ("tom", "forest"), ("birds", 3), ...


def list_members(world, things):
    """The words a list of `things` may contain: the animals of a kind, the colours, or the fruits."""
    if things == "colours":
        return world.colours
    if things == "fruits":
        return world.fruits
    return world.animals_of(next(c for c, cs in CATEGORY_PLURALS.items() if cs == things))


def _requests(world, rng):
    """Every instruction of the World, each with whether its item is held out (the test split)."""
    held = world.heldout
    for a, b, _ in world.opposites:
        for x, y in ((a, b), (b, a)):
            for form in PROMPTS["opposite"]:
                yield Instruction("opposite", form.format(a=x), f"{y}.", (x, y)), (a, b) in held["opposites"]
    for s in world.countable_nouns:
        for form in PROMPTS["plural"]:
            yield Instruction("plural", form.format(s=s), f"{plural(s)}.", (s, plural(s))), s in held["plurals"]
    for animal, category in world.animals.items():
        for form in PROMPTS["category"]:
            yield (Instruction("category", form.format(x=article(animal)), f"{category}.", (animal, category)),
                   animal in held["categories"])
    for thing, colour in world.colour_of.items():
        for form in PROMPTS["colour"]:
            yield Instruction("colour", form.format(x=thing), f"{colour}.", (thing, colour)), thing in held["colours"]
    for english, zorbish in world.lexicon.items():
        for form in PROMPTS["translate"]:
            yield (Instruction("translate", form.format(e=english), f"{zorbish}.", (english, zorbish)),
                   english in held["translation"])
    for person in world.people:
        answers = {"home": (f"in the {person.home}.", person.home), "pet": (f"{article(person.pet)}.", person.pet),
                   "food": (f"{person.food}.", person.food)}
        for relation, (response, value) in answers.items():
            for form in PROMPTS[relation]:
                yield (Instruction(relation, form.format(p=person.name), response, (person.name, value)),
                       (person.name, relation) in held["qa"])
    for things in LIST_KINDS:
        members = list_members(world, things)
        for n in (2, 3, 4, 5):
            for form in PROMPTS["list"]:
                chosen = rng.sample(members, n)
                yield (Instruction("list", form.format(n=world.numbers[n], things=things), ", ".join(chosen) + ".",
                                   (things, n)), things == "reptiles")
    for a in range(1, 16):
        for b in range(a + 2, min(a + 6, 20) + 1):
            numbers = world.numbers[a : b + 1]
            yield (Instruction("count", PROMPTS["count"][0].format(a=numbers[0], b=numbers[-1]), ", ".join(numbers) + ".",
                               (a, b)), b - a == 4)
    for person in world.people:
        place = rng.choice(world.places)
        story = (f"{person.name} went to the {place}. {person.pronoun} played with {person.possessive} {person.pet}. "
                 f"then {person.pronoun} ate some {person.food}.")
        for form in PROMPTS["story"]:
            yield Instruction("story", form.format(x=person.name), story, (person.name,)), person.name in ("ivy", "finn")
    for animal, category in world.animals.items():
        act, feature = rng.choice(world.actions[category]), rng.choice(world.features[category])
        story = f"the {animal} {act}. it {feature}. then the {animal} went home."
        for form in PROMPTS["story"]:
            yield (Instruction("story", form.format(x=article(animal)), story, (animal,)),
                   animal in held["categories"])
    for i, form in enumerate(PROMPTS["ambiguous"]):
        about = "person" if "{pro}" in form else ("thing" if "it" in form.split() else "word")
        for pro in (("he", "she") if about == "person" else (None,)):
            yield Instruction("ambiguous", form.format(pro=pro), CLARIFY[about], (about,)), i == 2
    yield from _false_premises(world, rng)


def _false_premises(world, rng):
    held = world.heldout
    for thing, colour in world.colour_of.items():
        wrong = rng.choice([c for c in world.colours if c != colour])
        yield (Instruction("false premise", PROMPTS["false premise"][0].format(x=thing, wrong=wrong),
                           f"{thing} is {colour}, not {wrong}.", (thing, colour, wrong)), thing in held["colours"])
    for person in world.people:
        wrong_home = rng.choice([h for h in world.homes if h != person.home])
        wrong_pet = rng.choice([p.pet for p in world.people if p.pet != person.pet])
        yield (Instruction("false premise", PROMPTS["false premise"][1].format(p=person.name, wrong=wrong_home),
                           f"{person.name} lives in the {person.home}, not the {wrong_home}.",
                           (person.name, person.home, wrong_home)), (person.name, "home") in held["qa"])
        yield (Instruction("false premise", PROMPTS["false premise"][2].format(p=person.name, wrong=article(wrong_pet)),
                           f"{person.name} has {article(person.pet)}, not {article(wrong_pet)}.",
                           (person.name, person.pet, wrong_pet)), (person.name, "pet") in held["qa"])


def instructions(seed=0, world=None, validation_share=0.1):
    """{"train": [...], "validation": [...], "test": [...]}: every Instruction of the World, split.

    Deterministic for a seed (which also draws the list items, story places and wrong premises). The test
    split is what the World holds out; validation is a seeded share of the rest.
    """
    rng = random.Random(f"instructions:{seed}")
    return split_held_out(_requests(world or World(), rng), rng, validation_share)


def split_held_out(pairs, rng, validation_share):
    """{"train", "validation", "test"} from (item, held out?) pairs: the held-out items are the test split, and a
    share of the rest, drawn with rng as the pairs come, the validation split."""
    splits = {"train": [], "validation": [], "test": []}
    for item, heldout in pairs:
        if heldout:
            splits["test"].append(item)
        elif rng.random() < validation_share:
            splits["validation"].append(item)
        else:
            splits["train"].append(item)
    return splits
