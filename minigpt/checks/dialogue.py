"""Checker for the ChatGPT exercise (solutions/07_chatgpt_exercises.ipynb): a dialogue in the chat format, and the
mask that puts the SFT loss on the assistant's turns only. The reference is minigpt.chat.encode_chat:

    <|user|> what pet does tom have?<|end|><|assistant|> tom has a dog.<|end|><|user|> and where ...
    0        0 ...                   0     0             1 ...          1     0 ...

Each turn is its role marker (one special token), a space, the text and the end-of-turn token; the assistant's
text and its end-of-turn token are learned (1), its role marker is not: the format supplies it.
"""
from functools import lru_cache, partial

from ..chat import END_OF_TURN, ROLES, encode_chat
from ..course_tokenizer import tokenizer
from ..tinyworld.dialogues import dialogues
from .core import Mistake, run_check


def _encode(tokenizer, turns, *, users=False, end=True, end_learned=True, shift=0, markers=False):
    """(ids, mask) of a dialogue, with a knob for each way of getting it wrong (the defaults are right)."""
    ids, mask = [], []
    for role, text in turns:
        marker, *written = tokenizer.encode(f"{ROLES[role]} {text.strip()}" + (END_OF_TURN if end else ""))
        learned = role == "assistant" or users
        ids += [marker, *written]
        mask += [int(markers and role == "assistant")] + [int(learned)] * len(written)
        if learned and end and not end_learned:
            mask[-1] = 0
    if shift > 0:  # the mask one token early: the role marker learned, the end-of-turn token not
        mask = mask[shift:] + [0] * shift
    elif shift < 0:  # one token late: the first word not learned, the next turn's marker learned
        mask = [0] * -shift + mask[:shift]
    return ids, mask


def _dialogue_inputs():
    """Dialogues of two, four and six turns (the reply the last), from TinyWorld's training split."""
    train = dialogues(seed=0)["train"]
    picked = [next(d for d in train if len(d.turns) == n) for n in (1, 3)]
    picked.append(next(d for d in train if d.behaviour == "mistake"))
    for d in picked:
        yield tokenizer(chat=True), list(d.turns) + [("assistant", d.reply)]
    long = list(picked[1].turns) + [("assistant", picked[1].reply), *picked[0].turns, ("assistant", picked[0].reply)]
    yield tokenizer(chat=True), long


DIALOGUE_MISTAKES = [
    Mistake("user turns learned", "puts the loss on the user's turns too: the model would learn to write the "
            "user's side of the conversation. Mark 1 only for the assistant's tokens.", partial(_encode, users=True)),
    Mistake("no end-of-turn token", f"leaves out the end-of-turn token {END_OF_TURN}: every turn ends with it, and "
            "without it the model never learns to stop and hand the turn back.", partial(_encode, end=False)),
    Mistake("end-of-turn not learned", f"writes {END_OF_TURN} but masks it out of the loss: the assistant's "
            "end-of-turn token is what teaches it to stop, so it is learned (1) like its words.",
            partial(_encode, end_learned=False)),
    Mistake("one token early", "marks the assistant's role marker and not its end-of-turn token: the mask is one "
            f"token early at each turn's boundaries. The marker is given (0); the text and {END_OF_TURN} are learned.",
            partial(_encode, shift=1)),
    Mistake("one token late", "misses the first token of each assistant turn and marks the token after its "
            f"{END_OF_TURN}: the mask is one token late at each turn's boundaries.", partial(_encode, shift=-1)),
    Mistake("markers learned", "marks the assistant's role marker as learned: the format writes the marker, the "
            "model writes what follows it.", partial(_encode, markers=True)),
]


def check_dialogue_mask(fn):
    """Check encode_dialogue(tokenizer, turns) -> (ids, mask) against minigpt.chat.encode_chat on TinyWorld
    dialogues of one to several turns."""
    return run_check("encode_dialogue", fn, _dialogue_inputs, encode_chat, mistakes=DIALOGUE_MISTAKES)
