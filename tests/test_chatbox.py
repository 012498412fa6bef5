"""Notebook 07's chat widget, driven through its callbacks as a student's clicks would."""
import pytest

from minigpt import zoo
from minigpt.chatbox import SCRIPT, ChatBox


@pytest.fixture(scope="module")
def sft():
    return zoo.load("sft", progress=False)[0], zoo.tokenizer(chat=True)


def test_it_opens_on_the_scripted_conversation_the_same_every_time(sft):
    box = ChatBox(*sft)
    lines = box.text.splitlines()
    assert [line for line in lines if line.startswith("you: ")] == [f"you: {m}" for m in SCRIPT]
    assert len([line for line in lines if line.startswith("assistant: ")]) == len(SCRIPT)
    assert ChatBox(*sft).text == box.text  # temperature 0 and a seed: a headless run shows the same


def test_typing_and_send_add_an_exchange_and_reset_starts_again(sft):
    box = ChatBox(*sft, script=())
    assert box.text == ""
    box.message.value = "what colour is a banana?"  # Enter (or leaving the box) sends it
    assert box.text.splitlines()[0] == "you: what colour is a banana?" and box.message.value == ""
    box.message.value = "count from two to five."
    box.send_button.click()  # already sent; the empty box sends nothing more
    assert box.text.count("you: ") == 2 and box.text.count("assistant: ") == 2
    box.reset_button.click()
    assert box.text == "" and box.conversation.turns == []


def test_the_temperature_slider_reaches_the_sampler_and_a_long_message_is_refused(sft):
    box = ChatBox(*sft, script=())
    box.temperature.value = 1.2
    assert box.conversation.temperature == 1.2
    box.send("tom " * 200)
    assert "not sent" in box.text and "fewer words" in box.text and box.conversation.turns == []
