"""The corpus generator: paragraphs of stories, descriptions, facts, Q/A, lists and lex lines.

`generate_corpus(seed, n_chars)` draws paragraphs until the text is n_chars long. All randomness
comes from one random.Random(seed), and items are dealt from shuffled decks (every item once before
any item twice), so that each fact form of each non-held-out item shows up in a corpus of default size.
`describe(world)` summarises the world and shows every sentence form; `corpus_stats(text)` counts the text.
"""
import random
from collections import Counter

from . import grammar as g
from .facts import arithmetic_slots, fact_forms, fact_items, fact_line
from .mapping import lex_line, nonsense_keys
from .world import World, article, plural

CHARSET = "abcdefghijklmnopqrstuvwxyz0123456789 \n.,?:;'->="  # every character the corpus may use

# How often each kind of paragraph is drawn (relative weights; lex paragraphs are long).
PARAGRAPH_WEIGHTS = {"story": 30, "description": 8, "facts": 32, "qa": 10, "lists": 6, "lex": 5}


class Deck:
    """Deals items in a shuffled order, reshuffling when all have been dealt."""

    def __init__(self, items, rng):
        self.items, self.rng, self.pile = list(items), rng, []
        if not self.items:
            raise ValueError("a Deck needs at least one item")

    def draw(self):
        if not self.pile:
            self.pile = self.items[:]
            self.rng.shuffle(self.pile)
        return self.pile.pop()

    def deal(self, n):
        """n items, all different when the deck has that many (a repeat goes back under the pile)."""
        hand = []
        while len(hand) < n:
            item = self.draw()
            if item in hand and len(hand) < len(self.items):
                self.pile.insert(0, item)
                continue
            hand.append(item)
        return hand


class Writer:
    """Writes paragraphs about a world; holds the random generator and the decks."""

    def __init__(self, world, rng):
        self.world, self.rng = world, rng
        deck = lambda items: Deck(items, rng)  # noqa: E731
        self.people = deck(world.people)
        self.animals = deck(world.animals)
        self.objects = deck(world.objects)
        self.colour_things = deck(world.colour_of)
        self.opposite_pairs = deck(world.opposites)
        self.tasks = deck(g.TASK_DESCRIPTIONS)
        self.fact_forms = {task: deck(fact_forms(task)) for task in g.TASK_DESCRIPTIONS if task != "qa"}
        self.fact_decks = {}  # (task, form) -> deck of items
        for task in self.fact_forms:
            for item in fact_items(world, task):
                for form in fact_forms(task, item):
                    self.fact_decks.setdefault((task, form), []).append(item)
        self.fact_decks = {key: deck(items) for key, items in self.fact_decks.items()}
        self.qa_facts = deck([(item, style) for item in fact_items(world, "qa") for style in (0, 1)])
        self.sums = deck(fact_items(world, "arithmetic"))
        self.lex_keys = nonsense_keys(world)
        self.phrase_adjectives = [w for w in world.zorbish_adjectives if w not in world.heldout["translation"]]
        self.phrase_nouns = [w for w in world.zorbish_nouns if w not in world.heldout["translation"]]

    # ---- helpers ----
    def pick(self, options):
        return self.rng.choice(options)

    def person_slots(self, person, other=None):
        other = other or self.pick([p for p in self.world.people if p is not person])
        return {"p": person.name, "pro": person.pronoun, "poss": person.possessive, "q": other.name,
                "home": person.home, "pet": person.pet, "food": person.food, "place": self.pick(self.world.places)}

    # ---- story sentences ----
    def see_animal(self, slots):
        animal = self.animals.draw()
        form = self.pick(g.SEE_ANIMALS)
        n = self.pick(self.world.numbers[2:7])
        lines = [form.format(**slots, n=n, xs=plural(animal), x=article(animal))]
        act = self.pick(self.world.actions[self.world.animals[animal]])
        lines.append(self.pick(g.ANIMAL_ACTS).format(s=animal, act=act))
        return lines

    def object_event(self, slots):
        thing = self.objects.draw()
        x = article(self.pick(self.world.colours) + " " + thing)
        return [self.pick(g.OBJECT_EVENTS).format(**slots, x=x, s=thing)]

    def describe_thing(self, slots):
        a, b, things = self.opposite_pairs.draw()
        adjective, thing = self.pick((a, b)), self.pick(things)
        if self.rng.random() < 0.4:
            first, second = (a, b) if self.rng.random() < 0.5 else (b, a)
            return [self.pick(g.CONTRAST_FORMS).format(s=thing, a=first, b=second)]
        return [self.pick(g.DESCRIBE_FORMS).format(s=thing, a=adjective, x=article(adjective + " " + thing))]

    def colour_cue(self, slots):
        phrase = self.colour_things.draw()
        colour = self.world.colour_of[phrase]
        words = phrase.split()
        if words[0] in ("a", "an"):
            x = article(colour + " " + " ".join(words[1:]))
        elif words[0] == "the":
            x = "the " + colour + " " + " ".join(words[1:])
        else:
            x = colour + " " + phrase
        return [self.pick(g.COLOUR_CUES).format(**slots, x=x)]

    def word_problem(self, slots):
        a, b = self.sums.draw()  # never a held-out sum
        thing = self.pick(self.world.fruits + self.world.objects)
        numbers = self.world.numbers
        xa, xc = (thing if a == 1 else plural(thing)), plural(thing)
        form = self.pick(g.WORD_PROBLEMS)
        return [form.format(**slots, a=numbers[a], b=numbers[b], c=numbers[a + b], xa=xa, xc=xc)]

    def biography(self, slots):
        forms = self.pick((g.HOME_FACTS, g.PET_FACTS, g.FOOD_FACTS))
        return [self.pick(forms).format(**slots)]

    # ---- paragraphs ----
    def story(self):
        person = self.people.draw()
        slots = self.person_slots(person)
        lines = [self.pick(g.OPENINGS).format(**slots)]
        events = (self.see_animal, self.see_animal, self.object_event, self.describe_thing, self.colour_cue,
                  self.word_problem, self.biography)
        for event in self.rng.sample(events, self.rng.randint(2, 4)):
            lines += event(slots)
        lines.append(self.pick(g.ENDINGS).format(**slots))
        return " ".join(lines)

    def description(self):
        if self.rng.random() < 0.3:  # a person
            slots = self.person_slots(self.people.draw())
            return " ".join(self.pick(forms).format(**slots) for forms in (g.HOME_FACTS, g.PET_FACTS, g.FOOD_FACTS))
        animal = self.animals.draw()
        f1, f2 = self.rng.sample(self.world.features[self.world.animals[animal]], 2)
        act = self.pick(self.world.actions[self.world.animals[animal]])
        return self.pick(g.DESCRIPTION_FORMS).format(s=animal, f1=f1, f2=f2) + f" once the {animal} {act}."

    def facts(self):
        task = self.tasks.draw()
        if task == "qa":
            return self.qa()
        if task == "translation" and self.rng.random() < 0.4:
            return self.phrases()
        form = self.fact_forms[task].draw()
        deck = self.fact_decks[(task, form)]
        lines = [fact_line(self.world, task, item, form) for item in deck.deal(self.rng.randint(3, 6))]
        if self.rng.random() < 0.4:
            lines.insert(0, g.TASK_DESCRIPTIONS[task])
        if task == "arithmetic" and self.rng.random() < 0.3:
            lines.append(self.subtraction())
        return "\n".join(lines)

    def subtraction(self):
        a, b = self.sums.draw()
        return self.pick(g.SUBTRACTION_FORMS).format(**arithmetic_slots(self.world, (a, b)))

    def phrases(self):
        lines = []
        for _ in range(self.rng.randint(3, 5)):
            adjective, noun = self.phrase_pair()
            lex = self.world.lexicon
            lines.append(self.pick(g.PHRASE_FORMS).format(ea=adjective, en=noun, za=lex[adjective], zn=lex[noun]))
        return "\n".join(lines)

    def phrase_pair(self):
        """An adjective and a noun, at most one of them held out of the translation task."""
        world = self.world
        if self.rng.random() < 0.25:  # a held-out word, shown only inside a phrase
            word = self.pick(sorted(world.heldout["translation"]))
            if word in world.zorbish_adjectives:
                return word, self.pick(self.phrase_nouns)
            return self.pick(self.phrase_adjectives), word
        return self.pick(self.phrase_adjectives), self.pick(self.phrase_nouns)

    def qa(self):
        """A short passage about one person, or a quiz, then questions; held-out facts are never asked."""
        if self.rng.random() < 0.5:
            (name, _), style = self.qa_facts.draw()
            person = self.world.person(name)
            slots = self.person_slots(person)
            passage = " ".join(self.pick(f).format(**slots) for f in (g.HOME_FACTS, g.PET_FACTS, g.FOOD_FACTS))
            facts = [((name, r), style) for r in g.QA_FORMS if (name, r) not in self.world.heldout["qa"]]
            self.rng.shuffle(facts)
            lines = [passage]
        else:
            facts = self.qa_facts.deal(self.rng.randint(3, 5))
            lines = [g.TASK_DESCRIPTIONS["qa"]] if self.rng.random() < 0.4 else []
        for item, style in facts:
            lines.append(fact_line(self.world, "qa", item, g.QA_FORMS[item[1]][style]))
        return "\n".join(lines)

    def lists(self):
        kind = self.rng.randrange(3)
        numbers = self.world.numbers
        if kind == 0:
            groceries = self.world.foods + tuple(plural(f) for f in self.world.fruits)
            items = self.rng.sample(groceries, self.rng.randint(3, 5))
            slots = self.person_slots(self.people.draw())
            return self.pick(g.LIST_FORMS).format(**slots, items=", ".join(items))
        if kind == 1:
            n = self.rng.randint(2, 9)
            thing = self.pick(self.world.fruits + self.world.objects + tuple(self.world.animals))
            counts = ", ".join(numbers[1 : n + 1])
            return g.COUNTING_FORMS[0].format(xs=plural(thing), counts=counts, n=numbers[n])
        start = self.rng.randint(0, 10)
        end = self.rng.randint(start + 3, 20)
        lines = [self.pick(g.COUNTING_FORMS[1:]).format(counts=", ".join(numbers[start : end + 1]),
                                                       digits=", ".join(map(str, range(start, end + 1))))]
        for n in self.rng.sample(range(21), 3):
            lines.append(self.pick(g.NUMBER_FORMS).format(n=numbers[n], d=n))
        return "\n".join(lines)

    def lex(self):
        return "\n".join(lex_line(self.rng, self.lex_keys) for _ in range(self.rng.randint(3, 6)))

    def paragraph(self):
        kinds, weights = zip(*PARAGRAPH_WEIGHTS.items())
        kind = self.rng.choices(kinds, weights)[0]
        return getattr(self, kind)()  # self.story(), self.facts(), ...


def generate_corpus(seed=0, n_chars=1_500_000, world=None):
    """The TinyWorld training text: paragraphs separated by blank lines, about n_chars characters long.

    The same seed gives the same text, byte for byte, in any process.
    """
    writer = Writer(world or World(), random.Random(seed))
    paragraphs, length = [], 0
    while length < n_chars:
        text = writer.paragraph()
        paragraphs.append(text)
        length += len(text) + 2
    return "\n\n".join(paragraphs) + "\n"


def describe(world=None):
    """A readable summary of the world (default: World()) and of the sentence forms the corpus uses."""
    world = world or World()
    zorbish = ", ".join(f"{e}={z}" for e, z in list(world.lexicon.items())[:4])
    lines = [
        "TinyWorld",
        f"  animals: {len(world.animals)}, {len(world.animals) // len(world.categories)} of each kind: "
        + ", ".join(f"{c} ({', '.join(world.animals_of(c)[:2])}, ...)" for c in world.categories),
        f"  people: {len(world.people)}, each with a home, a pet and a favourite food: "
        + ", ".join(f"{p.name} ({p.home}, {p.pet}, {p.food})" for p in world.people[:3]) + ", ...",
        f"  objects: {', '.join(world.objects[:8])}, ... ({len(world.objects)}); "
        f"foods: {', '.join(world.fruits[:5] + world.foods[:4])}, ...",
        f"  colours: {', '.join(world.colours)}",
        f"  homes: {', '.join(world.homes)}; places: {', '.join(world.places)}",
        f"  numbers zero to twenty (words and digits); {len(world.opposites)} opposite pairs; "
        f"{len(world.colour_of)} things with a known colour",
        f"  zorbish: {len(world.lexicon)} words ({zorbish}, ...); an adjective follows its noun",
        "sentence forms (facts: every form, the first is the one a task asks in)",
        "  story        tom went to the park. he saw three foxes near the park. the fox licked its fur. ...",
        "  description  the robin: it has feathers; it lays eggs in a nest. once the robin sang in a tree.",
    ]
    samples = {"opposites": [("hot", "cold")], "plurals": ["fox"], "categories": ["robin"],
               "colours": ["a banana"], "arithmetic": [(2, 3)], "translation": ["dog"],
               "qa": [("lily", "home"), ("lily", "pet"), ("lily", "food")]}
    extras = {"arithmetic": "five minus three is two.   (subtraction, not a task)",
              "translation": "english: red dog = zorbish: kava rul   (two-word phrases)"}
    for task, items in samples.items():
        forms = [fact_line(world, task, item, form) for item in items for form in fact_forms(task, item)]
        forms += [extras[task]] if task in extras else []
        lines += [f"  {task if k == 0 else '':12} {form}" for k, form in enumerate(forms)]
    lines += [
        "  list         my list: bread, pears, jam. / count the ducks: one, two. there are two ducks.",
        "  lex line     lex: bim -> red, taf -> cold, bim -> red   (a fresh mapping on every line)",
        "held out of their task's forms: " + ", ".join(f"{len(v)} {k}" for k, v in world.heldout.items()),
    ]
    return "\n".join(lines)


def corpus_stats(text):
    """Counts a student may want to print: characters, lines, words, distinct words, lex share.

    distinct_words leaves out lex lines, whose made-up keys are not words of the language.
    """
    lines = text.split("\n")
    lex_lines = [line for line in lines if line.startswith(g.LEX_PREFIX)]
    prose = [word.strip(".,?:;'") for line in lines if not line.startswith(g.LEX_PREFIX) for word in line.split()]
    return {
        "chars": len(text),
        "lines": text.count("\n"),
        "words": len(text.split()),
        "distinct_words": len(Counter(prose)),
        "distinct_chars": len(set(text)),
        "lex_fraction": round(sum(len(line) + 1 for line in lex_lines) / max(len(text), 1), 3),
    }
