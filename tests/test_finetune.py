import pytest
import torch
import torch.nn.functional as F

from minigpt import GPT, GPTConfig, Trainer, TrainConfig
from minigpt.finetune import (ClassificationData, GPTClassifier, accuracy, auxiliary_loss, classification_input,
                              classifier_loss, entailment_input, pad_sequences)


def classifier(n_classes=3):
    torch.manual_seed(0)
    return GPTClassifier(GPT(GPTConfig(vocab_size=20, block_size=16, n_layer=2, n_head=2, n_embd=32)), n_classes)


def test_input_transformations_follow_gpt1():
    assert classification_input([5, 6], start_id=1, extract_id=3) == [1, 5, 6, 3]
    assert entailment_input([5], [7, 8], start_id=1, delim_id=2, extract_id=3) == [1, 5, 2, 7, 8, 3]


def test_auxiliary_loss_is_l2_plus_lambda_l1():
    assert auxiliary_loss(torch.tensor(2.0), torch.tensor(3.0), 0.5).item() == pytest.approx(3.5)


def test_padding_does_not_change_a_sequences_logits():
    model = classifier().eval()
    short, long = [1, 5, 6, 3], [1, 5, 6, 7, 8, 9, 3]
    idx, lengths = pad_sequences([short, long])
    batched, _ = model(idx, lengths)
    alone, _ = model(torch.tensor([short]), torch.tensor([4]))
    torch.testing.assert_close(batched[0], alone[0], atol=1e-5, rtol=1e-5)


def test_losses_match_an_independent_computation():
    model = classifier().eval()
    seqs = [[1, 5, 6, 3], [1, 7, 8, 9, 4, 3]]
    idx, lengths = pad_sequences(seqs)
    labels = torch.tensor([2, 0])
    logits, l2 = model(idx, lengths, labels)
    torch.testing.assert_close(l2, F.cross_entropy(logits, labels))
    _, l3 = model(idx, lengths, labels, lm_weight=0.5)
    # L1 by hand: the plain language-model loss of each unpadded sequence, token-weighted
    token_losses = []
    for seq in seqs:
        x = torch.tensor([seq])
        lm_logits, _ = model.gpt(x)
        token_losses.append(F.cross_entropy(lm_logits[0, :-1], x[0, 1:], reduction="none"))
    l1 = torch.cat(token_losses).mean()
    torch.testing.assert_close(l3, l2 + 0.5 * l1, atol=1e-5, rtol=1e-5)


def test_classifier_learns_a_separable_task_with_the_trainer():
    # label = which of three marker tokens the sequence contains
    g = torch.Generator().manual_seed(0)
    def example(label):
        filler = torch.randint(10, 20, (5,), generator=g).tolist()
        return classification_input(filler[:2] + [4 + label] + filler[2:], start_id=1, extract_id=3), label
    train = [example(i % 3) for i in range(120)]
    val = [example(i % 3) for i in range(30)]
    data = ClassificationData(train, val, batch_size=16)
    model = classifier()
    config = TrainConfig(max_iters=80, warmup_iters=5, learning_rate=3e-3, eval_interval=40, eval_iters=2, progress=False)
    Trainer(model, data, config, loss_fn=classifier_loss(lm_weight=0.5)).run()
    assert accuracy(model, data, "val") > 0.9


def test_empty_split_gets_a_clear_error():
    with pytest.raises(ValueError, match="val split is empty"):
        ClassificationData([([1, 2], 0)], [], batch_size=2)
