"""Lex lines: sequences whose mapping only the context defines, where in-context learning can emerge.

A lex line pairs made-up keys with ordinary words, and every line draws a FRESH random mapping:

    lex: bim -> red, taf -> cold, bim -> red, wop -> owl, taf -> cold

Inside a line a key always maps to the same word, so the word after the second "bim ->" can be
predicted only by finding the first "bim -> red" earlier in the line and copying it (what an
induction head does). The first time a key appears its word is a guess, by construction.
tasks.context_mapping_task asks questions in this format.
"""
import random

from .grammar import LEX_PREFIX, all_templates
from .world import World

LEX_VALUES = ("red", "blue", "green", "yellow", "white", "black", "pink", "grey", "hot", "cold", "big",
              "small", "fast", "slow", "happy", "sad", "old", "young", "dog", "cat", "fox", "owl", "bee",
              "cow", "hat", "cup", "box", "key", "sun", "tree")
CONSONANTS = "bdfgklmnprstvwz"
VOWELS = "aeiou"
# Short english words a key should not look like, although TinyWorld never uses them.
COMMON_WORDS = frozenset(
    "bad bag bed big bit bob bud bug bun bus but dad did dig dim din dog don dot dug fan fat fed fig fin fit fun "
    "gap gas get god got gum gun gut kid kin kit lab lad lap led leg let lid lip lit log lot mad man map mat men "
    "met mid mob mom mop mud mug nap net nod not nut pad pan pat peg pen pet pig pin pit pod pop pot pub pun pup "
    "rag ram ran rat red rib rid rim rip rob rod rot rub rug run sad sat set sip sit sob sum sun tab tag tan tap "
    "ten tin tip ton top tub vat vet wag was web wed wet wig win wit won zip bat bet bid dab fib gig kip lob nib "
    "rug sag tug vow wok zap zit zen".split()
)


def _taken_words(world):
    """Words that already mean something in TinyWorld (keys must not collide with them)."""
    words = set(world.words()) | set(LEX_VALUES)
    for template in all_templates():
        for word in template.replace("{", " ").replace("}", " ").split():
            words.add(word.strip(".,?:;'"))
    return words


def nonsense_keys(world=None):
    """All three-letter made-up keys (consonant-vowel-consonant) that are not words of the world."""
    taken = _taken_words(world or World())
    keys = [c1 + v + c2 for c1 in CONSONANTS for v in VOWELS for c2 in CONSONANTS]
    return tuple(k for k in keys if k not in taken and k not in COMMON_WORDS)


def fresh_mapping(rng, keys, n_keys):
    """n_keys distinct keys, each paired with a distinct word of LEX_VALUES."""
    chosen = rng.sample(keys, n_keys)
    values = rng.sample(LEX_VALUES, n_keys)
    return dict(zip(chosen, values))


ARROW = " -> "  # between a key and its word; " " writes the pairs as "bim red" (experiments/induction_formation.py)


def format_pairs(pairs, arrow=ARROW):
    return ", ".join(f"{key}{arrow}{value}" for key, value in pairs)


KEYS_PER_LINE, PAIRS_PER_LINE = (2, 5), (5, 12)  # the (fewest, most) of a corpus line


def lex_line(rng, keys, *, n_keys=None, n_pairs=None, arrow=ARROW, keys_per_line=KEYS_PER_LINE,
             pairs_per_line=PAIRS_PER_LINE):
    """One corpus line: a fresh mapping of 2-5 keys, shown as 5-12 pairs with the keys repeating (every key at
    least once, so at least n_keys + 1 pairs). keys_per_line and pairs_per_line change those ranges."""
    n_keys = n_keys or rng.randint(*keys_per_line)
    n_pairs = n_pairs or rng.randint(max(pairs_per_line[0], n_keys + 1), pairs_per_line[1])
    mapping = fresh_mapping(rng, keys, n_keys)
    order = list(mapping)
    rng.shuffle(order)  # every key appears once early on, then keys repeat at random
    shown = order[: rng.randint(1, n_keys)]
    sequence = shown + [rng.choice(order) for _ in range(n_pairs - len(shown))]
    return LEX_PREFIX + format_pairs(((key, mapping[key]) for key in sequence), arrow)
