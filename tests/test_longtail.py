"""The long-tailed world of notebook 08's scaling (tinyworld.longtail): its text, its frequencies, and its floor."""
import math
from collections import Counter

import pytest

from minigpt.tinyworld.longtail import ATTRIBUTES, LongTailWorld


def test_the_floor_is_the_entropy_of_the_text_counted_by_brute_force_on_a_tiny_world():
    world = LongTailWorld(people=4, exponent=1.5, attributes=2, values=2, seed=3)
    # every line the generator can write, with its probability: one per person, all different (so a text says
    # which choices made it), the probabilities summing to 1
    table = {}
    for person in range(4):
        table[world.line(person)] = table.get(world.line(person), 0) + world.probabilities[person]
    assert len(table) == 4 and math.isclose(sum(table.values()), 1.0)
    lines = world.lines(20_000, seed=1)
    by_string = -sum(math.log(table[line]) for _, line in lines) / sum(len(line) + 1 for _, line in lines)
    assert world.floor(lines) == pytest.approx(by_string, rel=1e-12)
    counts = Counter(line for _, line in lines)  # drawn as often as their probabilities say
    for line, p in table.items():
        assert counts[line] / len(lines) == pytest.approx(p, abs=0.015)
    empirical = -sum(c / len(lines) * math.log(c / len(lines)) for c in counts.values())
    assert empirical == pytest.approx(world.entropy(), abs=0.02)


def test_people_are_mentioned_with_frequencies_falling_as_a_power_of_their_rank():
    world = LongTailWorld(people=1000, exponent=1.2)
    counts = Counter(person for person, _ in world.lines(200_000, seed=2))
    assert counts[0] / counts[1] == pytest.approx(2 ** 1.2, rel=0.05)
    assert counts[0] / counts[9] == pytest.approx(10 ** 1.2, rel=0.1)
    assert world.probabilities == sorted(world.probabilities, reverse=True)


def test_each_line_names_one_person_and_states_every_fact_in_one_template():
    world = LongTailWorld(people=500)
    assert len(set(world.names)) == 500 and world.names == LongTailWorld(people=500).names
    assert world.lines(50, seed=4) == LongTailWorld(people=500).lines(50, seed=4)
    for person, line in world.lines(200, seed=5):
        assert line.startswith(world.names[person] + " lives in the ") and line.count(".") == 1 and line[-1] == "."
        assert all(f" {value}" in line for value in world.facts[person].values())
        assert set(line) <= set("abcdefghijklmnopqrstuvwxyz ,.")
    assert all(len(values) == 24 for values in ATTRIBUTES.values())
    text = world.text(10, seed=0)
    assert text.count("\n") == 10 and text.endswith(".\n")


def test_answers_point_at_each_fact_value_in_the_line_in_the_templates_order():
    world = LongTailWorld(people=300)
    for person in range(300):
        line, answers = world.line(person), world.answers(person)
        assert [attribute for attribute, _, _ in answers] == world.attributes
        for attribute, value, start in answers:
            assert value == world.facts[person][attribute] and line[start : start + len(value)] == value
            assert line[start - 1] == " " and not line[start + len(value)].isalpha()
        assert [start for _, _, start in answers] == sorted(start for _, _, start in answers)


def test_a_world_that_cannot_be_built_is_refused_clearly():
    for bad in ({"people": 0}, {"attributes": 7}, {"values": 25}, {"exponent": -1}):
        with pytest.raises(ValueError, match="a LongTailWorld needs"):
            LongTailWorld(**bad)
