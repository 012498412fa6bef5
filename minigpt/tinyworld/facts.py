"""Facts of the world written out in the forms of grammar.py: the items of each task and their sentences.

An item is what a fact is about: an opposite pair ("hot", "cold"), a noun ("fox"), an animal ("robin"),
a thing with a colour ("a banana"), a sum (3, 4), an english word ("dog"), or a person and a relation
("tom", "home"). fact_line(world, task, item, form) writes the fact in one form.
"""
from . import grammar as g
from .world import CATEGORY_PLURALS, article, plural


def opposite_slots(item):
    a, b = item
    return {"a": a, "b": b}


def plural_slots(noun):
    return {"s": noun, "pl": plural(noun)}


def category_slots(world, animal):
    c = world.animals[animal]
    return {"x": article(animal), "xs": plural(animal), "c": c, "ca": article(c), "cs": CATEGORY_PLURALS[c]}


def arithmetic_slots(world, item):
    a, b = item
    words = world.numbers
    return {"a": words[a], "b": words[b], "c": words[a + b], "da": a, "db": b, "dc": a + b}


def translation_slots(world, english):
    return {"e": english, "z": world.lexicon[english]}


def qa_answer(person, relation):
    """The answer phrase of a Q/A form: 'forest' (after 'in the'), 'a dog', 'soup'."""
    return {"home": person.home, "pet": article(person.pet), "food": person.food}[relation]


def fact_items(world, task, include_heldout=False):
    """The items of a task in a fixed order: the non-held-out ones (or all of them)."""
    if task == "opposites":  # both directions of a pair; a held-out pair is held out both ways
        pairs = [(a, b) for a, b, _ in world.opposites if include_heldout or (a, b) not in world.heldout[task]]
        return [item for a, b in pairs for item in ((a, b), (b, a))]
    items = {
        "plurals": list(world.countable_nouns),
        "categories": list(world.animals),
        "colours": list(world.colour_of),
        "arithmetic": [(a, b) for a in range(1, 10) for b in range(1, 10)],
        "translation": list(world.lexicon),
        "qa": [(p.name, relation) for p in world.people for relation in g.QA_FORMS],
    }[task]
    return [item for item in items if include_heldout or item not in world.heldout[task]]


def fact_line(world, task, item, form):
    """One fact sentence: form is a template of the task's list of forms."""
    if task == "opposites":
        return form.format(**opposite_slots(item))
    if task == "plurals":
        return form.format(**plural_slots(item))
    if task == "categories":
        return form.format(**category_slots(world, item))
    if task == "colours":
        return form.format(x=item, c=world.colour_of[item])
    if task == "arithmetic":
        return form.format(**arithmetic_slots(world, item))
    if task == "translation":
        return form.format(**translation_slots(world, item))
    person = world.person(item[0])
    return form.format(p=person.name, x=qa_answer(person, item[1]))


def fact_forms(task, item=None):
    """The templates of a task (for Q/A: of the item's relation)."""
    if task == "qa":
        return g.QA_FORMS[item[1]]
    return {"opposites": g.OPPOSITE_FORMS, "plurals": g.PLURAL_FORMS, "categories": g.CATEGORY_FORMS,
            "colours": g.COLOUR_FORMS, "arithmetic": g.ARITHMETIC_FORMS, "translation": g.TRANSLATION_FORMS}[task]
