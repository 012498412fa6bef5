"""Notebook 05's be-the-labeler widget: a student's ranking becomes its comparisons, and the reward model's
agreement with them is shown; driving the dropdowns as a student would changes the output accordingly."""
import pytest
import torch

from minigpt import GPT, BPETokenizer, GPTConfig
from minigpt.chat import END_OF_TURN, SPECIAL_TOKENS
from minigpt.labeling import BeTheLabeler, labeling_text
from minigpt.reward import Comparison, RewardModel, score_responses

TEXT = "what colour is a banana? yellow. what colour is grass? green. the opposite of hot is cold. " * 20
TOKENIZER = BPETokenizer().train(TEXT, 300, special_tokens=SPECIAL_TOKENS)
COMPARISONS = [
    Comparison("what colour is a banana?", [" yellow." + END_OF_TURN, " green.", " cold cold." + END_OF_TURN], [0, 2, 1]),
    Comparison("what is the opposite of hot?", [" cold." + END_OF_TURN, " hot." + END_OF_TURN], [0, 1]),
]


@pytest.fixture(scope="module")
def rm():
    torch.manual_seed(0)
    gpt = GPT(GPTConfig(vocab_size=TOKENIZER.vocab_size, block_size=32, n_layer=1, n_head=2, n_embd=16))
    return RewardModel(gpt, TOKENIZER).eval()


def agreement_line(text):
    return text.splitlines()[-1]


def test_the_text_lists_every_comparison_of_the_ranking_and_the_reward_models_verdict(rm):
    text = labeling_text(rm, TOKENIZER, COMPARISONS[0], [2, 0, 1])
    assert "your ranking: C > A > B" in text
    scores = score_responses(rm, TOKENIZER, COMPARISONS[0].prompt, COMPARISONS[0].responses)
    expected = sum(scores[w] > scores[l] for w, l in [(2, 0), (2, 1), (0, 1)])
    verdicts = [line.split("   ")[0] for line in text.splitlines() if line.endswith(("agrees", "disagrees"))]
    assert verdicts == ["C > A", "C > B", "A > B"]
    assert agreement_line(text) == f"the reward model agrees with {expected} of your 3 comparisons ({expected / 3:.0%})"
    reverse = labeling_text(rm, TOKENIZER, COMPARISONS[0], [1, 0, 2])  # every comparison flipped
    assert agreement_line(reverse).startswith(f"the reward model agrees with {3 - expected} of your 3")


@pytest.mark.parametrize("ranking, message", [([0, 0, 1], "not a permutation"), ([0, 1], "rank all 3"), ([0], "K >= 2")])
def test_a_ranking_that_is_not_a_permutation_of_the_responses_is_refused(rm, ranking, message):
    with pytest.raises(ValueError, match=message):
        labeling_text(rm, TOKENIZER, COMPARISONS[0], ranking)


def test_driving_the_dropdowns_reorders_the_ranking_and_updates_the_output(rm):
    widget = BeTheLabeler(rm, TOKENIZER, COMPARISONS)
    assert widget.ranking == [0, 2, 1]  # the labeler's ranking first, as headless
    assert widget.text == labeling_text(rm, TOKENIZER, COMPARISONS[0], [0, 2, 1])
    widget.ranks.children[0].value = 1  # B first: B's old rank (3rd) gets A
    assert widget.ranking == [1, 2, 0]
    assert widget.text == labeling_text(rm, TOKENIZER, COMPARISONS[0], [1, 2, 0])
    widget.ranks.children[2].value = 2  # C last: swaps with 2nd
    assert widget.ranking == [1, 0, 2] and "your ranking: B > A > C" in widget.text
    widget.picker.value = 1  # another prompt: its own ranking and two dropdowns
    assert widget.ranking == [0, 1] and len(widget.ranks.children) == 2
    assert widget.text == labeling_text(rm, TOKENIZER, COMPARISONS[1], [0, 1])


def test_displayed_it_is_the_live_widget_or_its_text_never_both(rm):
    from IPython.core.formatters import DisplayFormatter

    widget = BeTheLabeler(rm, TOKENIZER, COMPARISONS)
    widget.ranks.children[0].value = 1
    shown, _ = DisplayFormatter().format(widget)  # what IPython sends to the front end for display(widget)
    assert shown["text/plain"] == widget.text  # a static rendering's form: the text, not "VBox(children=...)"
    assert shown["application/vnd.jupyter.widget-view+json"]["model_id"] == widget.box.model_id  # the live form
