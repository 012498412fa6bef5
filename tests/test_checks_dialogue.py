"""The dialogue exercise's checker accepts a right answer written another way and names each planted mistake.

The student functions are written out independently of minigpt.chat: the whole dialogue encoded as one string,
then the mask found by walking the ids between each assistant marker and the next end-of-turn token."""
import pytest

from minigpt.checks import check_dialogue_mask

USER, ASSISTANT, END = "<|user|>", "<|assistant|>", "<|end|>"


def student(tokenizer, turns, users=False, end=END, learn_end=True, early=False, late=False):
    text = "".join(f"{USER if role == 'user' else ASSISTANT} {words.strip()}{end}" for role, words in turns)
    ids = tokenizer.encode(text)
    markers = {tokenizer.special_tokens[USER]: users, tokenizer.special_tokens[ASSISTANT]: True}
    stop = tokenizer.special_tokens[END]
    mask, learning = [], False
    for token in ids:
        if token in markers:
            mask.append(int(early and markers[token]))
            learning = markers[token]
            continue
        mask.append(int(learning and (learn_end or token != stop)))
        if token == stop:
            learning = False
    if late:
        mask = [0] + mask[:-1]
    return ids, mask


@pytest.mark.parametrize("answer", [student], ids=["one string, walked"])
def test_a_correct_encoding_passes(answer, capsys):
    assert check_dialogue_mask(answer) is True
    assert "correct!" in capsys.readouterr().out


@pytest.mark.parametrize("mistake, words", [
    (lambda t, turns: student(t, turns, users=True), "user's turns too"),
    (lambda t, turns: student(t, turns, end=""), "leaves out the end-of-turn token"),
    (lambda t, turns: student(t, turns, learn_end=False), "masks it out of the loss"),
    (lambda t, turns: student(t, turns, early=True, learn_end=False), "one token early"),
    (lambda t, turns: student(t, turns, late=True), "one token late"),
    (lambda t, turns: student(t, turns, early=True), "role marker as learned"),
], ids=["user turns", "no end token", "end not learned", "early", "late", "markers"])
def test_each_planted_mistake_is_named(mistake, words):
    with pytest.raises(AssertionError, match=words):
        check_dialogue_mask(mistake)


def test_an_unfinished_exercise_is_not_an_error(capsys):
    def stub(tokenizer, turns):
        raise NotImplementedError

    assert check_dialogue_mask(stub) is False
    assert "not implemented yet" in capsys.readouterr().out
