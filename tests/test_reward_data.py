"""minigpt.reward's comparison data, training and persistence: K sampled responses ranked by a labeler, batched
whole (InstructGPT's way) or as separate pairs; bad input refused in plain words; a reward model saved and
loaded as a model folder."""
import pytest
import torch

from minigpt import GPT, BPETokenizer, GPTConfig
from minigpt.cache import DamagedModel, load_model_dir, save_model_dir
from minigpt.chat import END_OF_TURN, SPECIAL_TOKENS, format_chat
from minigpt.reward import (Comparison, RewardData, RewardModel, encode_response, pairwise_accuracy, ranking_loss,
                            reward_loss, sample_comparisons, score_responses, train_reward_model,
                            reranked, with_demonstrations, with_unfinished)
from minigpt.tinyworld import Dialogue

TEXT = "what colour is a banana? yellow. what colour is grass? green. the opposite of hot is cold. " * 20
TOKENIZER = BPETokenizer().train(TEXT, 300, special_tokens=SPECIAL_TOKENS)
OTHER = BPETokenizer().train(TEXT * 2 + "a blue banana. ", 290, special_tokens=SPECIAL_TOKENS)
PROMPTS = ["what colour is a banana?", "what colour is grass?", "what is the opposite of hot?"]


def gpt(seed=0, **shape):
    torch.manual_seed(seed)
    config = dict(vocab_size=TOKENIZER.vocab_size, block_size=48, n_layer=2, n_head=2, n_embd=16) | shape
    return GPT(GPTConfig(**config))


class LengthLabeler:
    """Ranks the shortest response first: a labeler the tests can predict."""

    def rank(self, item, responses):
        return sorted(range(len(responses)), key=lambda i: (len(responses[i]), i))

    def gold_score(self, prompt, response):
        return -len(response)


def comparisons(n=6):
    """n comparisons of 2 to 5 responses, ranked shortest first (by LengthLabeler)."""
    words = ["the opposite of green.", "green and cold.", "yellow yellow.", "yellow.", "cold."]
    made = []
    for i in range(n):
        responses = [w + END_OF_TURN for w in words[i % 2 : i % 2 + 2 + i % 4]]
        made.append(Comparison(PROMPTS[i % 3], responses, LengthLabeler().rank(None, responses)))
    return made


@pytest.mark.parametrize("responses, ranking, message", [
    (["yellow.", ""], [0, 1], "empty response"),
    (["yellow.", END_OF_TURN], [1, 0], "empty response"),
    (["yellow."], [0], "K >= 2"),
    (["yellow.", "green."], [1, 1], "not a permutation"),
    (["yellow.", "green.", "cold."], [1, 0], "orders 2 responses but there are 3"),
])
def test_a_bad_comparison_is_refused_with_a_clear_error(responses, ranking, message):
    with pytest.raises(ValueError, match=message):
        Comparison("what colour is a banana?", responses, ranking)


def test_sampled_comparisons_hold_k_different_responses_ranked_by_the_labeler():
    model = gpt()
    items = [type("Item", (), {"prompt": p})() for p in PROMPTS * 2]
    made = sample_comparisons(model, TOKENIZER, items, LengthLabeler(), k=(4, 6), max_new_tokens=6, seed=1)
    assert made and all(2 <= len(c.responses) <= 6 for c in made)
    for c in made:
        assert len(set(c.responses)) == len(c.responses)  # repeats dropped
        assert c.ranking == LengthLabeler().rank(None, c.responses)
    again = sample_comparisons(model, TOKENIZER, items, LengthLabeler(), k=(4, 6), max_new_tokens=6, seed=1)
    assert [c.responses for c in again] == [c.responses for c in made]  # seeded


DIALOGUE = Dialogue("follow-up", (("user", "what colour is a banana?"), ("assistant", "yellow."),
                                   ("user", "and grass?")), "green.", "answer", ("grass", "green", None))


def test_a_dialogue_is_a_prompt_its_turns_before_the_response():
    ids = encode_response(TOKENIZER, DIALOGUE, " green." + END_OF_TURN, block_size=48)
    assert TOKENIZER.decode(ids) == format_chat(DIALOGUE.turns, reply=True) + " green." + END_OF_TURN
    made = sample_comparisons(gpt(), TOKENIZER, [DIALOGUE] * 3, LengthLabeler(), k=(4, 6), max_new_tokens=6, seed=1)
    assert made and all(c.prompt is DIALOGUE for c in made)  # the labeler is handed the dialogue, not its text
    rm = RewardModel(gpt(), TOKENIZER).eval()
    responses = [" green." + END_OF_TURN, " yellow."]
    alone = [score_responses(rm, TOKENIZER, DIALOGUE, [r])[0] for r in responses]
    assert score_responses(rm, TOKENIZER, DIALOGUE, responses) == pytest.approx(alone, abs=1e-6)
    assert score_responses(rm, TOKENIZER, [DIALOGUE, PROMPTS[1]], responses)[0] == pytest.approx(alone[0], abs=1e-6)


def test_a_response_is_read_after_the_assistant_marker_with_its_end_of_turn():
    ids = encode_response(TOKENIZER, "what colour is grass?", " green." + END_OF_TURN, block_size=48)
    assert TOKENIZER.decode(ids).endswith("<|assistant|> green." + END_OF_TURN)


@pytest.mark.parametrize("prompt, response, tokenizer, message", [
    ("what colour is a banana? " * 9, " yellow.", TOKENIZER, "more than the block_size of 48"),
    ("what colour is a banana?", "  ", TOKENIZER, "empty response"),
    ("what colour is a banana?", " yellow.", BPETokenizer().train(TEXT, 300), "not the chat tokenizer"),
])
def test_responses_that_cannot_be_read_are_refused(prompt, response, tokenizer, message):
    with pytest.raises(ValueError, match=message):
        encode_response(tokenizer, prompt, response, block_size=48)


def test_responses_encoded_with_another_tokenizer_are_refused():
    rm = RewardModel(gpt(), TOKENIZER)
    score_responses(rm, TOKENIZER, PROMPTS[0], [" yellow."])
    with pytest.raises(ValueError, match="another tokenizer"):
        score_responses(rm, OTHER, PROMPTS[0], [" yellow."])
    with pytest.raises(ValueError, match="another tokenizer"):
        train_reward_model(rm, OTHER, {"train": comparisons(), "validation": comparisons(2)}, progress=False)


def test_grouped_batches_keep_a_prompts_responses_together_and_pairs_split_them():
    train = comparisons()
    grouped = RewardData(train, train[:2], TOKENIZER, 48, batch_size=3)
    pairs = RewardData(train, train[:2], TOKENIZER, 48, batch_size=3, grouped=False)
    assert len(grouped.splits["train"]) == len(train)
    assert len(pairs.splits["train"]) == sum(len(c.responses) * (len(c.responses) - 1) // 2 for c in train)
    idx, lengths, ks = grouped.get_batch("train", torch.Generator().manual_seed(0))
    assert idx.size(0) == lengths.size(0) == ks.sum() and ks.min() >= 2
    assert pairs.get_batch("train", torch.Generator().manual_seed(0))[2].tolist() == [2, 2, 2]


def test_reward_loss_is_the_ranking_loss_of_each_prompts_scores_in_ranked_order():
    rm = RewardModel(gpt()).eval()
    data = RewardData(comparisons(), comparisons(2), TOKENIZER, 48, batch_size=4)
    idx, lengths, ks = batch = data.get_batch("train", torch.Generator().manual_seed(2))
    scores, rows, start = rm(idx, lengths), torch.zeros(len(ks), int(ks.max())), 0
    for b, k in enumerate(ks.tolist()):
        rows[b, :k] = scores[start : start + k]
        start += k
    assert reward_loss(rm, batch).item() == pytest.approx(ranking_loss(rows, ks).item(), rel=1e-6)


def test_training_learns_a_ranking_it_can_see():
    torch.manual_seed(0)
    rm = RewardModel(gpt(), TOKENIZER)
    data = {"train": comparisons(30), "validation": comparisons(6)}
    before = pairwise_accuracy(rm, TOKENIZER, data["validation"])
    trainer = train_reward_model(rm, TOKENIZER, data, epochs=30, learning_rate=3e-3, batch_size=4, progress=False)
    assert trainer.history["val_loss"][-1] < trainer.history["val_loss"][0]
    assert pairwise_accuracy(rm, TOKENIZER, data["validation"]) > max(before, 0.9)
    assert pairwise_accuracy(rm, TOKENIZER, data["validation"], LengthLabeler()) > 0.9


def test_a_reward_model_is_saved_and_loaded_as_a_model_folder(tmp_path):
    rm = RewardModel(gpt(), TOKENIZER)
    rm.offset.fill_(0.25)
    save_model_dir(rm, {"name": "test"}, {"note": "x"}, tmp_path / "rm")
    loaded, record = load_model_dir(tmp_path / "rm", RewardModel)
    assert isinstance(loaded, RewardModel) and loaded.tokenizer == rm.tokenizer and record["note"] == "x"
    idx, lengths = torch.randint(TOKENIZER.vocab_size, (3, 7)), torch.tensor([7, 3, 5])
    assert torch.equal(loaded(idx, lengths), rm.eval()(idx, lengths))


def test_a_reward_model_loaded_onto_a_backbone_of_another_shape_is_refused(tmp_path):
    state = RewardModel(gpt()).state_dict()
    with pytest.raises(ValueError, match="backbone of n_layer=2, n_embd=16.*n_layer=3, n_embd=16"):
        RewardModel(gpt(n_layer=3)).load_state_dict(state)
    with pytest.raises(ValueError, match="n_embd=16.*n_embd=32"):
        RewardModel(gpt(n_embd=32)).load_state_dict(state)
    save_model_dir(RewardModel(gpt()), {"name": "test"}, {}, tmp_path / "rm")
    config = (tmp_path / "rm" / "config.json").read_text().replace('"n_layer": 2', '"n_layer": 3')
    (tmp_path / "rm" / "config.json").write_text(config)
    with pytest.raises(DamagedModel, match="do not fit"):
        load_model_dir(tmp_path / "rm", RewardModel)


def test_a_folder_loaded_as_another_kind_of_model_is_refused_in_plain_words(tmp_path):
    save_model_dir(RewardModel(gpt()), {"name": "test"}, {}, tmp_path / "rm")
    with pytest.raises(DamagedModel, match="describes a reward model, not a GPT"):
        load_model_dir(tmp_path / "rm")  # GPT, the default
    save_model_dir(gpt(), {"name": "test"}, {}, tmp_path / "gpt")
    with pytest.raises(DamagedModel, match="does not describe a RewardModel"):
        load_model_dir(tmp_path / "gpt", RewardModel)


def test_responses_to_different_prompts_score_as_they_do_one_prompt_at_a_time():
    rm = RewardModel(gpt(), TOKENIZER).eval()
    responses = [" yellow." + END_OF_TURN, " green.", " cold."]
    together = score_responses(rm, TOKENIZER, PROMPTS, responses)
    assert together == pytest.approx([score_responses(rm, TOKENIZER, p, [r])[0] for p, r in zip(PROMPTS, responses)],
                                     abs=1e-6)
    with pytest.raises(ValueError, match="2 prompts for 3 responses"):
        score_responses(rm, TOKENIZER, PROMPTS[:2], responses)


class Demonstration:
    def __init__(self, prompt, response, kind):
        self.prompt, self.response, self.kind = prompt, response, kind


def test_with_demonstrations_adds_each_prompts_own_and_foils_of_its_kind_ranked_again():
    items = [Demonstration("colour of a banana?", "yellow.", "colour"),
             Demonstration("colour of grass?", "green.", "colour"),
             Demonstration("opposite of hot?", "the opposite of hot is cold.", "opposite")]
    made = [Comparison(item.prompt, [" a very long answer that goes on.", " short."], [1, 0]) for item in items]
    own = with_demonstrations(made, items, LengthLabeler())
    for c, item in zip(own, items):
        assert c.responses[-1] == f" {item.response}{END_OF_TURN}" and len(c.responses) == 3
        assert c.ranked() == sorted(c.responses, key=len)  # ranked again, by the labeler
    foiled = with_demonstrations(made, items, LengthLabeler(), own=False, foils=3, seed=1)
    kinds = {f" {i.response}{END_OF_TURN}": i.kind for i in items}
    for c, item in zip(foiled, items):
        added = c.responses[2:]
        assert added and len(set(added)) == len(added)  # drawn with replacement, each text added once
        assert all(kinds[text] == item.kind for text in added)  # only demonstrations of the prompt's own kind
    assert [c.responses for c in with_demonstrations(own, items, LengthLabeler())] == [c.responses for c in own]


def test_with_demonstrations_takes_dialogues_as_their_own_prompts_and_foils_of_the_same_kind():
    items = [Dialogue("clarify", (("user", f"where does {name} live?"),), f"{name} lives in the {home}.", "answer",
                      (name, "home", home)) for name, home in (("tom", "forest"), ("mia", "town"))]
    items.append(Dialogue("decline", (("user", "give me tom's house key."),), "sorry, i can not help with that.",
                          "decline", ("tom", "home", "forest")))
    made = [Comparison(d, [" a very long answer that goes on.", " short."], [1, 0]) for d in items]
    foiled = with_demonstrations(made, items, LengthLabeler(), foils=4, seed=0)
    for c, d in zip(foiled, items):
        assert c.prompt is d and f" {d.reply}{END_OF_TURN}" in c.responses
        assert {text for text in c.responses[2:]} <= {f" {o.reply}{END_OF_TURN}" for o in items if o.kind == d.kind}
    assert len(foiled[0].responses) == 4  # tom's own demonstration, and mia's as a foil


def test_with_unfinished_adds_one_response_cut_before_its_end_of_turn_ranked_again():
    made = [Comparison("p1", [f" a long answer.{END_OF_TURN}", f" short.{END_OF_TURN}", " cut off mid"], [1, 0, 2]),
            Comparison("p2", [" no end here", " nor here"], [0, 1]),  # nothing ends its turn: kept as it is
            Comparison("p3", [f" yes.{END_OF_TURN}", " yes."], [0, 1])]  # its cut copy is there already
    cut = with_unfinished(made, LengthLabeler(), seed=3)
    assert cut[1] is made[1] and cut[2] is made[2]
    added = cut[0].responses[3]
    assert cut[0].responses[:3] == made[0].responses and added in (" a long answer.", " short.")
    assert cut[0].ranked() == sorted(cut[0].responses, key=len)  # ranked again, by the labeler
    assert [c.responses for c in with_unfinished(made, LengthLabeler(), seed=3)] == [c.responses for c in cut]


def test_reranked_keeps_the_responses_and_takes_the_new_labelers_ranking():
    made = [Comparison("p", [" bb", " a", " ccc"], [2, 0, 1])]
    again = reranked(made, LengthLabeler())
    assert again[0].responses == made[0].responses and again[0].ranking == [1, 0, 2]
