"""The sentence forms of TinyWorld, as data: every line of the corpus is one of these templates filled in.

Fact forms come in lists, one list per task; the FIRST form of each list is the form a task asks in
(tasks.py), the others say the same fact in other words. Story forms are grouped by what happens.
Slots: {p} a person's name, {pro} he/she, {poss} his/her, {q} another person; {a}/{b} words of an
opposite pair; {s}/{pl} a noun and its plural; {x} a noun phrase; {c} a colour or a category.
"""

# ---- facts (the tasks) -------------------------------------------------------------------------------
OPPOSITE_FORMS = ("the opposite of {a} is {b}.", "{b} is the opposite of {a}.", "{a} and {b} are opposites.")
PLURAL_FORMS = ("one {s}, two {pl}.", "the plural of {s} is {pl}.", "one {s}, many {pl}.")
CATEGORY_FORMS = (  # {x} "a robin", {c} "bird", {ca} "a bird", {xs} "robins", {cs} "birds"
    "{x} is a kind of {c}.", "{x} is {ca}.", "{xs} are {cs}.", "q: what kind of animal is {x}? a: {ca}.",
)
COLOUR_FORMS = (
    "what colour is {x}? {c}.", "{x} is {c}.", "the colour of {x} is {c}.", "q: what colour is {x}? a: {c}.",
)
ARITHMETIC_FORMS = (  # {a} {b} {c} as words, {da} {db} {dc} as digits
    "{a} plus {b} is {c}.", "{da} plus {db} is {dc}.", "what is {a} plus {b}? {c}.", "{da} plus {db} = {dc}.",
    "{a} and {b} make {c}.",
)
SUBTRACTION_FORMS = ("{c} minus {b} is {a}.", "{dc} minus {db} = {da}.")
TRANSLATION_FORMS = (  # {e} english, {z} zorbish
    "english: {e} = zorbish: {z}", "zorbish: {z} = english: {e}", "in zorbish, {e} is '{z}'.",
    "the zorbish word for {e} is {z}.",
)
PHRASE_FORMS = (  # two-word phrases: the zorbish adjective follows its noun
    "english: {ea} {en} = zorbish: {zn} {za}", "zorbish: {zn} {za} = english: {ea} {en}",
)
QA_FORMS = {  # closed-book questions about the people; answers follow their biography
    "home": ("q: where does {p} live? a: in the {x}.", "question: where does {p} live? answer: in the {x}."),
    "pet": ("q: what pet does {p} have? a: {x}.", "question: what pet does {p} have? answer: {x}."),
    "food": ("q: what food does {p} like? a: {x}.", "question: what food does {p} like? answer: {x}."),
}
TASK_DESCRIPTIONS = {  # the instruction line that may open a paragraph of facts
    "opposites": "give the opposite of each word.",
    "plurals": "give the plural of each word.",
    "categories": "say what kind of animal each one is.",
    "colours": "say what colour each thing is.",
    "arithmetic": "add the two numbers.",
    "translation": "translate each word from english to zorbish.",
    "qa": "answer each question about the people.",
}

# ---- stories -----------------------------------------------------------------------------------------
OPENINGS = ("{p} went to the {place}.", "one day {p} walked to the {place}.",
            "in the morning {p} went to the {place}.", "{p} and {q} went to the {place}.")
SEE_ANIMALS = ("{pro} saw {n} {xs} near the {place}.", "there were {n} {xs} by the {place}.",
               "{p} saw {x}.", "{p} found {x} by the {place}.")
ANIMAL_ACTS = ("the {s} {act}.", "then the {s} {act}.", "the little {s} {act}.")
OBJECT_EVENTS = ("{p} had {x}.", "{pro} gave the {s} to {q}.", "{q} had {x} too.", "{pro} lost {poss} {s}.")
DESCRIBE_FORMS = ("the {s} was {a}.", "it was {x}.")  # {x} "a hot soup" / "an old tree"
CONTRAST_FORMS = ("the {s} was {a}, but then it was {b}.", "at first the {s} was {a}. later it was {b}.")
COLOUR_CUES = ("{p} saw {x}.", "{p} looked at {x}.")  # {x} "a yellow banana" / "the blue sky"
WORD_PROBLEMS = (
    "{p} had {a} {xa}. {pro} got {b} more. now {pro} has {c} {xc}.",
    "{p} had {c} {xc}. {pro} gave {b} to {q}. now {pro} has {a} {xa}.",
)
HOME_FACTS = ("{p} lives in the {home}.", "{p} went home to the {home}.", "{p} has a house in the {home}.")
PET_FACTS = ("{p} has a pet {pet}.", "{p} played with {poss} {pet}.", "{p} fed {poss} {pet}.")
FOOD_FACTS = ("{p} likes {food}.", "{p} ate some {food}; it is {poss} favourite food.")
ENDINGS = ("{pro} was happy.", "it was a good day.", "then {pro} went home.")

# ---- descriptions, lists, numbers ----------------------------------------------------------------------
DESCRIPTION_FORMS = ("the {s}: it {f1}; it {f2}.", "about the {s}: it {f1}. it {f2}.")
LIST_FORMS = ("my list: {items}.", "shopping list: {items}.", "{p}'s list: {items}.")
COUNTING_FORMS = ("count the {xs}: {counts}. there are {n} {xs}.", "{counts}.", "{digits}.")
NUMBER_FORMS = ("{n} is {d}.", "the number {n} is written {d}.")

# ---- lex lines (see mapping.py) -----------------------------------------------------------------------
LEX_PREFIX = "lex: "


def all_templates():
    """Every template string above, so that their words can be listed."""
    groups = [OPPOSITE_FORMS, PLURAL_FORMS, CATEGORY_FORMS, COLOUR_FORMS, ARITHMETIC_FORMS, SUBTRACTION_FORMS,
              TRANSLATION_FORMS, PHRASE_FORMS, *QA_FORMS.values(), tuple(TASK_DESCRIPTIONS.values()), OPENINGS,
              SEE_ANIMALS, ANIMAL_ACTS, OBJECT_EVENTS, DESCRIBE_FORMS, CONTRAST_FORMS, COLOUR_CUES, WORD_PROBLEMS,
              HOME_FACTS, PET_FACTS, FOOD_FACTS, ENDINGS, DESCRIPTION_FORMS, LIST_FORMS, COUNTING_FORMS,
              NUMBER_FORMS, (LEX_PREFIX,)]
    return [template for group in groups for template in group]
