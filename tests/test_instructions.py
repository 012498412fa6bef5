"""TinyWorld's instructions with demonstrations, and the gold labeler's rules on hand-written cases."""
import pytest

from minigpt.tinyworld import World
from minigpt.tinyworld.instructions import KINDS, instructions
from minigpt.tinyworld.labeler import END_OF_TURN, GoldLabeler

SPLITS = instructions(seed=0)
LABELER = GoldLabeler(SPLITS)


BANANA = next(i for split in SPLITS.values() for i in split if i.kind == "false premise" and i.item[0] == "a banana")


def test_the_splits_are_deterministic_disjoint_and_cover_every_kind():
    again = instructions(seed=0)
    assert again == SPLITS
    prompts = {name: {i.prompt for i in split} for name, split in SPLITS.items()}
    assert not (prompts["train"] & prompts["test"]) and not (prompts["validation"] & prompts["test"])
    assert not (prompts["train"] & prompts["validation"])
    for name in ("train", "test"):
        assert {i.kind for i in SPLITS[name]} == set(KINDS), name


def test_the_test_split_asks_about_what_the_world_holds_out():
    world = World()
    test = SPLITS["test"]
    assert {i.item[0] for i in test if i.kind == "plural"} == set(world.heldout["plurals"])
    assert all(i.item[0] not in world.heldout["plurals"] for i in SPLITS["train"] if i.kind == "plural")
    assert {(i.item[0], i.kind) for i in test if i.kind in ("home", "pet", "food")} == set(world.heldout["qa"])


def test_every_demonstration_gets_full_marks():
    for split in SPLITS.values():
        for instruction in split:
            assert LABELER.gold_score(instruction, instruction.response + END_OF_TURN) == 1.0, instruction


@pytest.mark.parametrize("prompt, response, rule", [
    ("what is the opposite of hot?", "warm.", "true"),           # wrong, and not a word of the opposites
    ("what is the opposite of hot?", "cold or big.", "true"),    # a rival answer along with the right one
    ("where does tom live?", "in the town.", "true"),            # tom lives in the forest
    ("list three birds.", "robin, fox, owl.", "true"),           # a fox is not a bird
    ("count from two to five.", "two, three, five.", "true"),
    ("write a short story about tom.", "tom went to the park. he played with his cat.", "true"),  # tom has a dog
    ("write a short story about a robin.", "the robin swam in the river. then the robin went home.", "true"),
    ("write a short story about a robin.", "the robin flew over the hill. then the fox went home.", "true"),  # no fox
    ("write a short story about a robin.", "the robin flew over the blorp. then the robin went home.", "true"),
    ("what is the opposite of hot?", "cold zindle.", "true"),   # a made-up word states nothing true
    (BANANA.prompt, f"a banana is {BANANA.item[2]}.", "true"),  # repeats the false premise
    ("what pet does she have?", "a cat.", "true"),               # answers a question it cannot know
    ("what is the opposite of hot?", "the opposite of hot is cold.", "form"),  # a sentence, not a word
    ("list three birds.", "robin, owl.", "form"),                 # two items, three asked
    ("what pet does she have?", "who do you mean? tell me.", "form"),
    ("write a short story about tom.", "mia went to the park. she ate some bread.", "on topic"),
    ("list three birds.", "robin, robin, owl.", "no repeats"),
    ("write a short story about tom.", "tom went home. tom went home. tom ate soup.", "no repeats"),
    ("what is the opposite of hot?", "cold." + " and" * 5, "length"),
])
def test_each_rule_catches_its_mistake(prompt, response, rule):
    rules = LABELER.rules(prompt, response + END_OF_TURN)
    assert rules[rule] is False, rules
    assert LABELER.gold_score(prompt, response + END_OF_TURN) < 1.0


def test_a_response_that_did_not_stop_loses_the_clean_end():
    rules = LABELER.rules("what is the opposite of hot?", "cold.")
    assert not rules["clean end"] and sum(rules.values()) == len(rules) - 1


def test_an_empty_response_fails_everything_but_the_repeats():
    rules = LABELER.rules("what is the opposite of hot?", END_OF_TURN)
    assert [r for r, ok in rules.items() if ok] == ["no repeats", "clean end"]


def test_rank_orders_by_score_and_noise_makes_it_disagree_sometimes():
    prompt = "list three birds."
    responses = ["robin, fox", "robin, crow, owl." + END_OF_TURN, "robin, crow, owl.", "fox, cat, cow." + END_OF_TURN]
    assert LABELER.rank(prompt, responses) == [1, 2, 3, 0]
    noisy = GoldLabeler(SPLITS, noise=0.3, seed=1)
    orders = {tuple(noisy.rank(prompt, responses)) for _ in range(50)}
    assert len(orders) > 1 and (1, 2, 3, 0) in orders
    with pytest.raises(ValueError, match="K >= 2"):
        LABELER.rank(prompt, responses[:1])


def test_careless_noise_errs_on_clear_pairs_as_often_as_on_close_ones_unlike_gaussian_noise():
    prompt = "list three birds."
    best, close, far = "robin, crow, owl." + END_OF_TURN, "robin, crow, owl.", "fox" + END_OF_TURN  # score 1, 8/9, low
    assert LABELER.gold_score(prompt, best) - LABELER.gold_score(prompt, close) < 0.2
    assert LABELER.gold_score(prompt, best) - LABELER.gold_score(prompt, far) > 0.5

    def flip_rates(labeler, n=2000):
        orders = [labeler.rank(prompt, [best, close, far]) for _ in range(n)]
        return [sum(o.index(0) > o.index(other) for o in orders) / n for other in (1, 2)]

    close_flips, far_flips = flip_rates(GoldLabeler(SPLITS, careless=0.4, seed=1))
    assert abs(close_flips - 0.2) < 0.04 and abs(far_flips - 0.2) < 0.04  # 40% shuffled, half of those flip a pair
    close_flips, far_flips = flip_rates(GoldLabeler(SPLITS, noise=0.3, seed=1))
    assert close_flips > 0.3 and far_flips < 0.1
    with pytest.raises(ValueError, match="careless"):
        GoldLabeler(SPLITS, careless=1.5).rank(prompt, [best, far])


def test_an_unknown_prompt_is_refused():
    with pytest.raises(ValueError, match="knows no instruction"):
        LABELER.gold_score("what is the meaning of life?", "42." + END_OF_TURN)
