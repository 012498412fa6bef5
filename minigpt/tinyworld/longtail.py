"""A long-tailed world for predictable scaling (notebook 08): many made-up people, each with six facts, mentioned
with frequencies that fall as a power of their rank, and text whose entropy the generator knows exactly.

TinyWorld has a few hundred facts of equal weight: a model learns them early, and its loss drops onto a floor
that no run before the bend can see. Power laws over many decades come from a long tail of things to learn whose
frequencies fall as a power (Hutter 2021; Michaud et al. 2023): here, people. Each line of text is about one person,
drawn with probability proportional to rank^(-exponent), and states all six of their facts in one template:

    mobari lives in the marsh, has a newt, likes figs, wears teal, owns a kite and plays chess.

The name is the line's only choice: the facts are the world's, the same every time a person is mentioned. So a
model that knew the world perfectly would pay -log p(person) for a line and nothing else, and the floor of a text,
its entropy per character, is computed exactly (LongTailWorld.floor): no fit needs to guess it. A model that has
not learned a person's facts pays for them too, about log(24) nats each; the frequent people are learned first,
the tail last.

    world = LongTailWorld(people=20_000, exponent=1.0)
    lines = world.lines(100_000, seed=1)      # (person index, text) pairs, drawn with the seed
    world.floor(lines)                         # nats per predicted character of a perfect model
"""
import itertools
import math
import random

# Six attributes, each with 24 values, in the order the template states them
ATTRIBUTES = {
    "home": ("forest", "town", "hills", "desert", "marsh", "valley", "village", "city", "cave", "meadow", "harbour",
             "island", "orchard", "canyon", "glacier", "jungle", "swamp", "prairie", "tundra", "lagoon", "castle",
             "farm", "garden", "mountains"),
    "pet": ("cat", "dog", "owl", "newt", "frog", "goat", "hen", "duck", "fox", "mole", "crab", "snail", "toad", "lamb",
            "pony", "moth", "bee", "wasp", "finch", "hare", "seal", "eel", "bat", "yak"),
    "food": ("soup", "jam", "bread", "rice", "figs", "pears", "plums", "honey", "cheese", "beans", "nuts", "corn",
             "eggs", "fish", "cake", "pie", "stew", "toast", "grapes", "dates", "limes", "peas", "oats", "buns"),
    "colour": ("red", "blue", "green", "yellow", "purple", "orange", "brown", "black", "white", "grey", "pink",
               "teal", "gold", "silver", "navy", "olive", "lime", "plum", "rust", "cream", "tan", "mint", "ruby",
               "amber"),
    "tool": ("saw", "drum", "kite", "lamp", "rope", "axe", "bell", "bow", "map", "net", "pipe", "rake", "sled",
             "spade", "van", "boat", "cart", "harp", "hook", "flute", "torch", "wheel", "broom", "ladder"),
    "game": ("chess", "cards", "tag", "dice", "golf", "polo", "darts", "bingo", "rugby", "tennis", "hockey", "squash",
             "snooker", "croquet", "bowls", "marbles", "dominoes", "hopscotch", "netball", "cricket", "rounders",
             "skittles", "checkers", "charades"),
}
PHRASES = {"home": "lives in the {}", "pet": "has {}", "food": "likes {}", "colour": "wears {}", "tool": "owns {}",
           "game": "plays {}"}
ARTICLED = ("pet", "tool")  # "has a newt", "owns an axe"
ONSETS = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "dr", "gr", "kl", "pl", "st",
          "tr", "sh", "ch", "th")
VOWELS = ("a", "e", "i", "o", "u", "ai", "oo", "ei")
CODAS = ("", "", "", "n", "r", "l", "s", "m", "x")
ALPHABET = "\n ,.abcdefghijklmnopqrstuvwxyz"  # every character of the text: it is read one character at a time


def text_floor(probabilities, lines):
    """L_inf = sum over lines of -ln p_person / sum over lines of (len(line) + 1): the nats of the lines' choices
    (who each is about, person k with probability probabilities[k]) over the characters predicted, each line read
    after a newline and followed by one (which a full stop always precedes)."""
    return math.fsum(-math.log(probabilities[person]) for person, _ in lines) / sum(len(line) + 1 for _, line in lines)


def _a(word):
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


def _names(n, rng):
    """n distinct made-up names of two or three syllables, none of them an English word of the templates."""
    taken = {w for values in ATTRIBUTES.values() for w in values} | {w for p in PHRASES.values() for w in p.split()}
    names, seen = [], set(taken)
    while len(names) < n:
        syllables = rng.choice((2, 2, 3))
        name = "".join(rng.choice(ONSETS) + rng.choice(VOWELS) for _ in range(syllables)) + rng.choice(CODAS)
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


class LongTailWorld:
    """people made-up people (rank 0 the most frequent), each with a value of every attribute of ATTRIBUTES (the
    first `attributes` of them, each with its first `values` values), drawn uniformly with seed; a line mentions
    person k with probability proportional to (k + 1)^(-exponent)."""

    def __init__(self, people=20_000, exponent=1.0, *, attributes=6, values=24, seed=0):
        if people < 1 or not 1 <= attributes <= len(ATTRIBUTES) or not 2 <= values <= 24 or exponent < 0:
            raise ValueError(f"a LongTailWorld needs people >= 1, 1 <= attributes <= {len(ATTRIBUTES)}, "
                             f"2 <= values <= 24 and exponent >= 0; got {people}, {attributes}, {values}, {exponent}")
        rng = random.Random(f"long tail:{seed}")
        self.exponent, self.attributes = exponent, list(ATTRIBUTES)[:attributes]
        self.names = _names(people, rng)
        self.facts = [{a: rng.choice(ATTRIBUTES[a][:values]) for a in self.attributes} for _ in range(people)]
        weights = [(k + 1) ** -exponent for k in range(people)]
        total = math.fsum(weights)
        self.probabilities = [w / total for w in weights]
        self._cumulative = list(itertools.accumulate(self.probabilities))

    def line(self, person):
        """The line about a person: their name and every fact, in the one template, without the newline."""
        facts = self.facts[person]
        phrases = [PHRASES[a].format(_a(facts[a]) if a in ARTICLED else facts[a]) for a in self.attributes]
        listed = phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " and " + phrases[-1]
        return f"{self.names[person]} {listed}."

    def answers(self, person):
        """Where the line about a person states each fact: [(attribute, value, start), ...], line[start:] beginning
        with the value. What comes before is the fact's question in GPT-4's capability form: given the name and the
        facts before it, how much probability does a model give the value?"""
        line, at, found = self.line(person), len(self.names[person]), []
        for attribute in self.attributes:
            value = self.facts[person][attribute]
            at = line.index(f" {value}", at) + 1
            found.append((attribute, value, at))
            at += len(value)
        return found

    def lines(self, n, seed=0):
        """n (person, line) pairs, each person drawn with its probability, with seed."""
        rng = random.Random(f"long tail lines:{seed}")
        chosen = rng.choices(range(len(self.names)), cum_weights=self._cumulative, k=n)
        return [(k, self.line(k)) for k in chosen]

    def text(self, n, seed=0):
        """n lines drawn with seed, each ending with a newline: the training or validation text."""
        return "".join(line + "\n" for _, line in self.lines(n, seed))

    def nats(self, person):
        """-log p of the one choice a line about the person makes: which person it is about."""
        return -math.log(self.probabilities[person])

    def floor(self, lines):
        """The loss of a model that knows the world perfectly, on lines = [(person, line), ...] each read after a
        newline and followed by one: text_floor with this world's probabilities."""
        return text_floor(self.probabilities, lines)

    def entropy(self):
        """The expected nats of a line's choice: the entropy of the people's frequencies."""
        return -math.fsum(p * math.log(p) for p in self.probabilities)
