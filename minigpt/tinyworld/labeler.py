"""The gold labeler: the course's stand-in for human judgement, as rules a student can read.

InstructGPT's labelers ranked K responses to a prompt from best to worst; here a scripted labeler does, by six
rules checked against the World. Each rule is a yes or a no; the score is the weighted share of yeses:

    true        what the response states is right about the World, in the World's words  weight 3
                (a made-up word states nothing true)
    form        the requested form: one word when a word is asked, N items when N are,   weight 2
                a question when the request is unclear, a correction of a false premise
    on topic    it is about what was asked (names the person or animal, or the answer)   weight 1
    no repeats  no sentence, list item or three-word run said twice                       weight 1
    clean end   it ends with the end-of-turn token (the model stopped by itself)          weight 1
    length      no longer than three times the demonstration, and at least one word      weight 1

rank() orders responses by score, ties by length (shorter first) then order. Two settings make it disagree with its
noiseless self on some pairs, as InstructGPT's labelers agreed with each other on about 73% of comparisons:
  noise      Gaussian noise of that standard deviation added to each score before ranking: a labeler unsure on
             close calls (a pair that differs by one weight-1 rule becomes nearly a coin flip);
  careless   the share of rankings the labeler makes at random, ranking the rest by its rules: a labeler who
             sometimes does not look, wrong as often on a clear pair as on a close one.
"""
import random
import re

from .grammar import all_templates
from .instructions import Instruction, list_members
from .world import World

END_OF_TURN = "<|end|>"  # chat.END_OF_TURN; the labeler reads text and needs nothing else of the chat format
WEIGHTS = {"true": 3, "form": 2, "on topic": 1, "no repeats": 1, "clean end": 1, "length": 1}
WORD_KINDS = ("opposite", "plural", "category", "colour", "translate", "pet", "food")


def words_of(text):
    return re.findall(r"[a-z0-9']+", text.lower())


def sentences_of(text):
    return [s.strip() for s in re.split(r"[.?!]", text) if s.strip()]


def items_of(text):
    """The pieces of a text between commas and full stops: a list's items."""
    return [x.strip() for x in re.split(r"[,.]", text) if x.strip()]


def known_words(world, instructions=()):
    """The words of the World's language: what it names, its sentence forms' words, and its instructions' words."""
    texts = [" ".join(world.words()), *all_templates(), *(i.prompt + " " + i.response for i in instructions)]
    return {w for text in texts for w in words_of(re.sub(r"\{\w+\}", " ", text))}


def noisy_ranking(scores, responses, *, noise, rng, careless=0.0):
    """Indices of responses from best to worst score, after adding Gaussian noise of standard deviation `noise` to
    each score (none when noise is 0); ties go to the shorter response, then to the earlier one. With probability
    `careless` the whole ranking is a random order instead."""
    if len(responses) < 2:
        raise ValueError(f"ranking needs at least 2 responses (K >= 2), got {len(responses)}")
    if not (noise >= 0 and 0 <= careless <= 1):
        raise ValueError(f"noise must be >= 0 and careless a share from 0 to 1, got noise={noise}, careless={careless}")
    noisy = [score + (rng.gauss(0, noise) if noise else 0.0) for score in scores]
    order = sorted(range(len(responses)), key=lambda i: (-noisy[i], len(responses[i]), i))
    if careless and rng.random() < careless:
        rng.shuffle(order)
    return order


class GoldLabeler:
    """gold_score(prompt, response) -> a number in [0, 1]; rank(prompt, responses) -> indices, best first.

    prompt: an Instruction, or the text of one (the labeler knows every instruction of the World).
    response: what the model wrote, ending with END_OF_TURN if it stopped by itself.
    """

    def __init__(self, instructions, world=None, *, noise=0.0, seed=0, careless=0.0):
        self.world = world or World()
        self.by_prompt = {i.prompt: i for split in instructions.values() for i in split}
        self.noise, self.careless, self.rng = noise, careless, random.Random(f"labeler:{seed}")
        self.vocabulary = known_words(self.world, self.by_prompt.values())

    def instruction(self, prompt):
        if isinstance(prompt, Instruction):
            return prompt
        if prompt not in self.by_prompt:
            raise ValueError(f"the labeler knows no instruction {prompt!r}; it judges the World's instructions only")
        return self.by_prompt[prompt]

    def rules(self, prompt, response):
        """{rule: True/False} for one response, the labeler's reasons."""
        instruction = self.instruction(prompt)
        ended = response.rstrip().endswith(END_OF_TURN)
        text = response.replace(END_OF_TURN, " ").strip().lower()
        words = words_of(text)
        return {
            "true": bool(words) and set(words) <= self.vocabulary and self._true(instruction, text, words),
            "form": bool(words) and self._form(instruction, text, words),
            "on topic": bool(words) and self._on_topic(instruction, text, words),
            "no repeats": self.no_repeats(text, words),
            "clean end": ended,
            "length": 1 <= len(words) <= 3 * len(words_of(instruction.response)),
        }

    def gold_score(self, prompt, response):
        rules = self.rules(prompt, response)
        return sum(WEIGHTS[rule] for rule, ok in rules.items() if ok) / sum(WEIGHTS.values())

    def rank(self, prompt, responses):
        """Indices of `responses` from best to worst (with this labeler's noise, if any)."""
        return noisy_ranking([self.gold_score(prompt, r) for r in responses], responses, noise=self.noise,
                             rng=self.rng, careless=self.careless)

    # ---- the rules, kind by kind -----------------------------------------------------------------------

    def _true(self, ins, text, words):
        w, kind, item = self.world, ins.kind, ins.item
        if kind in WORD_KINDS:
            answer, wrong = item[-1], self._rivals(ins)
            return answer in words and not (set(words) & wrong)
        if kind == "home":
            return item[1] in words and not (set(words) & (set(w.homes) - {item[1]}))
        if kind == "list":
            items = items_of(text)
            return bool(items) and all(x in list_members(w, item[0]) for x in items)
        if kind == "count":
            expected = list(w.numbers[item[0] : item[1] + 1])
            return words == expected[: len(words)]
        if kind == "story":
            return self._story_true(item[0], words)
        if kind == "ambiguous":
            return "?" in text and not self._answers_something(words)
        if kind == "false premise":
            return item[1] in words and "not" in words  # the true value, and the premise denied
        raise ValueError(f"no rule for the kind {kind!r}")

    def _form(self, ins, text, words):
        kind = ins.kind
        if kind in WORD_KINDS:
            return len(words) <= (2 if kind == "pet" else 1)  # a pet may come with its article: "a dog."
        if kind == "home":
            return words[:2] == ["in", "the"] and len(words) == 3
        if kind == "list":
            items = items_of(text)
            return len(items) == ins.item[1] and all(len(words_of(x)) == 1 for x in items)
        if kind == "count":
            return words == list(self.world.numbers[ins.item[0] : ins.item[1] + 1])
        if kind == "story":
            return 2 <= len(sentences_of(text)) <= 4
        if kind == "ambiguous":
            return text.endswith("?") and len(sentences_of(text)) == 1
        return "not" in words and len(sentences_of(text)) == 1  # false premise: one corrected sentence

    def _on_topic(self, ins, text, words):
        kind, item = ins.kind, ins.item
        if kind in ("story", "false premise", "home", "pet", "food"):
            subject = words_of(item[0])[-1]  # the person, the animal, or the thing's noun
            return subject in words or kind in ("home", "pet", "food") and item[-1] in words
        if kind == "ambiguous":
            return any(q in words for q in ("who", "which", "what"))
        if kind == "list":
            return any(x in list_members(self.world, item[0]) for x in items_of(text))
        if kind == "count":
            return words[0] in self.world.numbers
        return item[-1] in words or item[0] in words

    @staticmethod
    def no_repeats(text, words):
        sentences = sentences_of(text)
        items = items_of(text)
        trigrams = list(zip(words, words[1:], words[2:]))
        return all(len(set(xs)) == len(xs) for xs in (sentences, items, trigrams))

    # ---- helpers ----------------------------------------------------------------------------------------

    def _rivals(self, ins):
        """Words that would be a wrong answer of the same kind: the other opposites, colours, categories..."""
        w, kind, answer = self.world, ins.kind, ins.item[-1]
        pools = {"opposite": [x for a, b, _ in w.opposites for x in (a, b)], "colour": w.colours,
                 "category": w.categories, "translate": list(w.lexicon.values()), "food": w.foods,
                 "pet": [p.pet for p in w.people], "plural": []}
        return set(pools[kind]) - {answer, ins.item[0]}

    def _story_true(self, subject, words):
        w = self.world
        if subject in w.animals:  # an animal's story: every action and feature it mentions fits its kind
            category = w.animals[subject]
            own = set(w.actions[category]) | set(w.features[category])
            others = {p for table in (w.actions, w.features) for phrases in table.values() for p in phrases} - own
            text = " ".join(words)
            strangers = set(w.animals) - {subject}  # the story is about this animal, and no other
            return not any(p in text for p in others) and not (set(words) & strangers)
        person = w.person(subject)
        wrong = (set(w.homes) - {person.home}) | ({p.pet for p in w.people} - {person.pet})
        wrong |= set(w.foods) - {person.food}
        return not (set(words) & wrong)

    def _answers_something(self, words):
        w = self.world
        answers = set(w.homes) | {p.pet for p in w.people} | set(w.foods) | set(w.colours)
        return bool(set(words) & answers)
