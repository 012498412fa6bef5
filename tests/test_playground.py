import pytest
import torch

from minigpt import GPT, BPETokenizer, GPTConfig, tinyworld
from minigpt.playground import Playground, playground_text
from minigpt.prompting import completion, greedy_completion

TOKENIZER = BPETokenizer()  # untrained byte-level BPE: every string encodes, nothing to train
TASKS = {name: task for name, task in tinyworld.tasks(seed=0).items() if name in ("opposites", "colours")}


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return GPT(GPTConfig(vocab_size=TOKENIZER.vocab_size, block_size=256, n_layer=1, n_head=2, n_embd=32)).eval()


def prompt_of(text):
    return text.split("--- prompt")[1].split("\n--- the model writes")[0].split("\n", 1)[1]


def test_the_text_shows_the_prompt_the_written_answer_and_probabilities_that_sum_to_one(model):
    text = playground_text(model, TOKENIZER, TASKS, "opposites", shots=2, temperature=0.0)
    query = TASKS["opposites"].heldout[0]
    assert prompt_of(text).split("\n")[-1] == query.prompt and len(prompt_of(text).split("\n")) == 3
    assert f"{query.answer!r}" in text and "<- right answer" in text
    percents = [float(line.split("%")[0].split()[-1]) for line in text.split("answer probabilities ---\n")[1].split("\n")]
    assert len(percents) == len(query.choices) and sum(percents) == pytest.approx(100, abs=0.5)
    assert playground_text(model, TOKENIZER, TASKS, "opposites", shots=2, temperature=0.0) == text  # seeded: same text
    with pytest.raises(ValueError, match="opposites, colours"):
        playground_text(model, TOKENIZER, TASKS, "poetry", shots=2, temperature=0.0)


def test_driving_the_widgets_changes_the_output_accordingly(model):
    pg = Playground(model, TOKENIZER, TASKS, task="opposites", shots=2, temperature=0.0)
    default = pg.text
    assert default == playground_text(model, TOKENIZER, TASKS, "opposites", shots=2, temperature=0.0)

    pg.shots.value = 5  # the callback runs on every change
    assert len(prompt_of(pg.text).split("\n")) == 6
    assert pg.text == playground_text(model, TOKENIZER, TASKS, "opposites", shots=5, temperature=0.0)
    pg.task.value = "colours"
    assert TASKS["colours"].heldout[0].prompt in pg.text and "opposite" not in prompt_of(pg.text).split("\n")[-1]
    pg.temperature.value = 1.5
    assert "temperature 1.5" in pg.text
    assert pg.text == playground_text(model, TOKENIZER, TASKS, "colours", shots=5, temperature=1.5)
    pg.task.value, pg.shots.value, pg.temperature.value = "opposites", 2, 0.0
    assert pg.text == default  # back to the defaults, back to the default output


def test_completion_is_seeded_and_greedy_at_temperature_zero(model):
    prompt = "the opposite of hot is"
    assert completion(model, TOKENIZER, prompt, temperature=0) == greedy_completion(model, TOKENIZER, prompt)
    assert completion(model, TOKENIZER, prompt, temperature=1.0, seed=3) == completion(model, TOKENIZER, prompt,
                                                                                       temperature=1.0, seed=3)
    samples = {completion(model, TOKENIZER, prompt, temperature=1.0, seed=s, stop=()) for s in range(4)}
    assert len(samples) > 1  # an untrained model at temperature 1 writes different text for different seeds
