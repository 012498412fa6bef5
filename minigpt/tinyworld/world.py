"""The world of TinyWorld as plain data: who and what exists, and how things relate.

Nothing here is random. The text generator (text.py) samples sentences about this world, the task
builder (tasks.py) asks questions about it, and later stages (SFT demonstrations, a scripted gold
labeler, dialogues) read the same tables. `HELDOUT` names, per task, the items whose task sentences
never appear in the generated text; evaluation asks about them. Nothing here imports the other modules
of tinyworld; text.describe(world) prints a summary of the world with a sentence of each form.
"""
from dataclasses import dataclass, field

CATEGORIES = ("bird", "fish", "mammal", "insect", "reptile")
CATEGORY_PLURALS = {"bird": "birds", "fish": "fish", "mammal": "mammals", "insect": "insects", "reptile": "reptiles"}

# 20 animals per category. Stories show what each kind does (FEATURES, ACTIONS) without naming it.
ANIMALS = {
    "bird": ("robin", "crow", "owl", "duck", "hen", "swan", "eagle", "hawk", "parrot", "goose",
             "sparrow", "pigeon", "finch", "wren", "stork", "heron", "gull", "raven", "lark", "magpie"),
    "fish": ("trout", "salmon", "cod", "tuna", "carp", "pike", "eel", "shark", "perch", "herring",
             "sardine", "minnow", "haddock", "mackerel", "catfish", "goldfish", "guppy", "halibut",
             "anchovy", "plaice"),
    "mammal": ("dog", "cat", "fox", "wolf", "bear", "horse", "cow", "pig", "sheep", "goat",
               "mouse", "rabbit", "deer", "lion", "tiger", "whale", "otter", "badger", "camel", "elephant"),
    "insect": ("ant", "bee", "wasp", "firefly", "moth", "beetle", "flea", "gnat", "cricket", "ladybird",
               "butterfly", "dragonfly", "grasshopper", "termite", "hornet", "mosquito", "locust",
               "earwig", "aphid", "midge"),
    "reptile": ("snake", "lizard", "turtle", "tortoise", "crocodile", "alligator", "gecko", "iguana",
                "cobra", "python", "viper", "adder", "chameleon", "skink", "boa", "anaconda",
                "rattlesnake", "terrapin", "caiman", "mamba"),
}
FEATURES = {  # "it ..." sentences that describe every animal of a category
    "bird": ("has feathers", "has two wings", "lays eggs in a nest", "has a beak"),
    "fish": ("has fins", "lives in the water", "breathes with gills", "has a tail for swimming"),
    "mammal": ("has fur", "feeds its young with milk", "has warm blood", "has four legs"),
    "insect": ("has six legs", "is very small", "has two feelers", "has a hard shell"),
    "reptile": ("has dry scales", "has cold blood", "lays eggs in the sand", "sheds its skin"),
}
ACTIONS = {  # what an animal of a category does in a story: "the robin flew over the hill."
    "bird": ("flew over the hill", "sang in a tree", "built a nest", "flapped its wings"),
    "fish": ("swam in the river", "blew bubbles", "swam under a rock", "flicked its fins"),
    "mammal": ("licked its fur", "fed its young", "slept in a warm den", "shook its fur"),
    "insect": ("crawled up a leaf", "buzzed", "waved its feelers", "hid under a leaf"),
    "reptile": ("lay in the sun", "shed its skin", "flicked its tongue", "warmed its scales"),
}

OBJECTS = ("ball", "hat", "box", "cup", "kite", "car", "book", "bag", "key", "boat",
           "bike", "drum", "lamp", "sock", "bell", "chair", "coat", "shoe", "clock", "rope")
FRUITS = ("apple", "pear", "banana", "lemon", "carrot", "tomato", "cherry", "strawberry", "plum",
          "grape", "lime", "pea", "pumpkin", "peach", "egg")  # countable foods
FOODS = ("soup", "bread", "cheese", "rice", "cake", "honey", "pie", "jam")  # things one likes to eat
COLOURS = ("red", "blue", "green", "yellow", "white", "black", "brown", "orange", "purple", "pink", "grey")
PLACES = ("park", "river", "lake", "market", "school", "garden", "beach", "field", "shop", "bridge")
HOMES = ("forest", "town", "village", "city", "valley", "castle", "hills", "desert")
NUMBERS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
           "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
           "nineteen", "twenty")

IRREGULAR_PLURALS = {
    "mouse": "mice", "goose": "geese", "sheep": "sheep", "deer": "deer", "wolf": "wolves",
    "leaf": "leaves", "man": "men", "woman": "women", "child": "children", "tomato": "tomatoes",
    "potato": "potatoes", "fish": "fish",
    # many fish keep the same word for one and many
    **{name: name for name in ("trout", "salmon", "cod", "tuna", "carp", "pike", "perch", "herring",
                               "haddock", "mackerel", "catfish", "goldfish", "halibut", "plaice")},
}

# (name, pronoun, home, pet, favourite food): the biographies that stories and Q/A agree on
PEOPLE = (
    ("tom", "he", "forest", "dog", "soup"), ("mia", "she", "town", "cat", "bread"),
    ("sam", "he", "village", "rabbit", "cheese"), ("lily", "she", "city", "parrot", "rice"),
    ("ben", "he", "valley", "goldfish", "cake"), ("anna", "she", "castle", "horse", "honey"),
    ("max", "he", "hills", "turtle", "pie"), ("zoe", "she", "desert", "lizard", "jam"),
    ("leo", "he", "town", "hen", "bread"), ("ella", "she", "forest", "mouse", "cake"),
    ("jack", "he", "city", "owl", "soup"), ("ruby", "she", "village", "goat", "pie"),
    ("finn", "he", "castle", "duck", "rice"), ("nora", "she", "valley", "pig", "cheese"),
    ("owen", "he", "desert", "snake", "honey"), ("ivy", "she", "hills", "cat", "jam"),
)

# Opposite pairs, each with things that the pair can describe in a story ("the soup was hot.").
OPPOSITES = (
    ("hot", "cold", ("soup", "tea")), ("big", "small", ("house", "dog")),
    ("fast", "slow", ("car", "horse")), ("happy", "sad", ("boy", "girl")),
    ("wet", "dry", ("road", "towel")), ("young", "old", ("man", "tree")),
    ("tall", "short", ("tree", "tower")), ("light", "dark", ("room", "forest")),
    ("full", "empty", ("cup", "box")), ("loud", "quiet", ("drum", "song")),
    ("hard", "soft", ("bed", "rock")), ("rich", "poor", ("king", "man")),
    ("strong", "weak", ("horse", "rope")), ("thick", "thin", ("book", "rope")),
    ("good", "bad", ("dog", "day")), ("clean", "dirty", ("shirt", "floor")),
    ("high", "low", ("wall", "kite")), ("near", "far", ("town", "river")),
    ("sweet", "sour", ("cake", "apple")), ("open", "shut", ("door", "box")),
    ("early", "late", ("bus", "train")), ("awake", "asleep", ("baby", "cat")),
    ("brave", "scared", ("knight", "boy")), ("smooth", "rough", ("stone", "road")),
)

# Things with a known colour, as the noun phrase a sentence uses: "what colour is the sky? blue."
COLOUR_OF = {
    "the sky": "blue", "the sea": "blue", "grass": "green", "a leaf": "green", "a lime": "green",
    "a pea": "green", "snow": "white", "milk": "white", "salt": "white", "coal": "black",
    "ink": "black", "a crow": "black", "mud": "brown", "chocolate": "brown", "a bear": "brown",
    "the sun": "yellow", "a banana": "yellow", "a lemon": "yellow", "a carrot": "orange",
    "a pumpkin": "orange", "a tomato": "red", "a cherry": "red", "a strawberry": "red", "a rose": "red",
    "a plum": "purple", "a grape": "purple", "a violet": "purple", "a pig": "pink", "a flamingo": "pink",
    "an elephant": "grey", "a stone": "grey",
}

# Zorbish, the made-up language: one word per english word; adjectives follow their noun
# ("english: red dog = zorbish: kava rul").
ZORBISH_ADJECTIVES = {
    "red": "rul", "blue": "voss", "green": "tepa", "yellow": "zine", "white": "olo", "black": "druk",
    "big": "gar", "small": "pim", "old": "sabo", "hot": "fesh", "cold": "kiro", "sad": "duro",
}
ZORBISH_NOUNS = {
    "dog": "kava", "cat": "mipo", "fox": "ruda", "horse": "tolo", "cow": "bema", "bear": "gruno",
    "mouse": "pik", "duck": "wabi", "owl": "hoto", "ball": "tumi", "hat": "kepo", "box": "dak",
    "cup": "sulo", "tree": "jara", "house": "nodi", "boat": "varu", "book": "lesk", "apple": "pomi",
    "fish": "ebo", "bird": "fira",
}

# Per task, the items held out of that task's sentences (see the package docstring for each cue).
HELDOUT = {
    "opposites": frozenset({("wet", "dry"), ("full", "empty"), ("loud", "quiet"),
                            ("rich", "poor"), ("early", "late"), ("smooth", "rough")}),
    "plurals": frozenset({"box", "cherry", "goose", "wolf", "kite", "hen", "peach", "tomato",
                          "lizard", "bee", "shoe", "clock", "sheep", "firefly", "bell", "moth"}),
    "categories": frozenset({"swan", "heron", "magpie", "shark", "minnow", "guppy", "otter", "camel",
                             "badger", "beetle", "hornet", "locust", "gecko", "viper", "terrapin"}),
    "colours": frozenset({"a lemon", "the sea", "a grape", "coal", "a pumpkin", "a pea", "a rose"}),
    "arithmetic": frozenset({(3, 4), (2, 6), (5, 3), (7, 2), (4, 7), (6, 3), (1, 8), (9, 5),
                             (8, 6), (5, 7), (2, 9), (6, 1)}),
    "translation": frozenset({"fox", "owl", "boat", "apple", "green", "sad"}),
    "qa": frozenset({("mia", "home"), ("max", "home"), ("nora", "home"), ("owen", "home"),
                     ("sam", "pet"), ("ella", "pet"), ("jack", "pet"), ("ivy", "pet"),
                     ("tom", "food"), ("anna", "food"), ("finn", "food"), ("ruby", "food")}),
}


def article(word):
    """'a' or 'an' + word: article('owl') == 'an owl'."""
    return ("an " if word[0] in "aeiou" else "a ") + word


def plural(noun):
    """English plural: the irregular table first, then the spelling rules (box -> boxes, fly -> flies)."""
    if noun in IRREGULAR_PLURALS:
        return IRREGULAR_PLURALS[noun]
    if noun.endswith(("s", "x", "z", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


@dataclass(frozen=True)
class Person:
    name: str
    pronoun: str  # "he" or "she"
    home: str
    pet: str
    food: str

    @property
    def possessive(self):
        return "his" if self.pronoun == "he" else "her"


@dataclass(frozen=True)
class World:
    """Everything TinyWorld contains, as tables; `World()` is the standard world of the course."""

    categories: tuple = CATEGORIES
    animals: dict = field(default_factory=lambda: {a: c for c, names in ANIMALS.items() for a in names})
    features: dict = field(default_factory=lambda: dict(FEATURES))
    actions: dict = field(default_factory=lambda: dict(ACTIONS))
    objects: tuple = OBJECTS
    fruits: tuple = FRUITS
    foods: tuple = FOODS
    colours: tuple = COLOURS
    places: tuple = PLACES
    homes: tuple = HOMES
    numbers: tuple = NUMBERS
    people: tuple = tuple(Person(*row) for row in PEOPLE)
    opposites: tuple = OPPOSITES
    colour_of: dict = field(default_factory=lambda: dict(COLOUR_OF))
    zorbish_adjectives: dict = field(default_factory=lambda: dict(ZORBISH_ADJECTIVES))
    zorbish_nouns: dict = field(default_factory=lambda: dict(ZORBISH_NOUNS))
    heldout: dict = field(default_factory=lambda: dict(HELDOUT))

    @property
    def lexicon(self):
        """english -> zorbish, adjectives then nouns."""
        return {**self.zorbish_adjectives, **self.zorbish_nouns}

    @property
    def countable_nouns(self):
        """The nouns of the plural task: objects, countable foods and animals."""
        return self.objects + self.fruits + tuple(self.animals)

    def animals_of(self, category):
        return tuple(a for a, c in self.animals.items() if c == category)

    def is_heldout(self, task, item):
        return item in self.heldout[task]

    def person(self, name):
        return next(p for p in self.people if p.name == name)

    def words(self):
        """Every word that names something in this world, sorted (the grammar adds its own words)."""
        words = set(self.categories) | set(CATEGORY_PLURALS.values()) | set(self.animals)
        words |= {plural(n) for n in self.countable_nouns} | set(self.countable_nouns)
        words |= set(self.foods + self.colours + self.places + self.homes + self.numbers)
        words |= {p.name for p in self.people}
        for a, b, things in self.opposites:
            words |= {a, b, *things}
        for phrase in self.colour_of:
            words |= set(phrase.split())
        words |= set(self.lexicon) | set(self.lexicon.values())
        for table in (self.features, self.actions):
            for sentences in table.values():
                for sentence in sentences:
                    words |= set(sentence.split())
        return sorted(words)
