"""GPT-1's second stage: supervised fine-tuning of a pre-trained GPT on a labelled task.

Radford et al. (2018), "Improving Language Understanding by Generative Pre-Training", section 3.2.
The labelled example x^1..x^m goes through the pre-trained transformer; the final hidden state of
the last token, h_l^m, feeds one new linear layer W_y:

    P(y | x^1, ..., x^m) = softmax(h_l^m W_y)                          (eq. 3)
    L2(C) = sum_(x, y) log P(y | x^1, ..., x^m)                         (eq. 4)
    L3(C) = L2(C) + lambda * L1(C)                                       (eq. 5)

L1 is the language-model objective, kept as an auxiliary loss on the same inputs. As losses to
minimise (negative log-likelihoods, averaged), L3 = L2 + lambda * L1 becomes loss = task + lambda * lm.

Section 3.3, input transformations: every input becomes one token sequence, wrapped in special
tokens whose embeddings are new (learned during fine-tuning):
    classification: <start> text <extract>
    entailment:     <start> premise <delim> hypothesis <extract>
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .model import IGNORE_INDEX
from .training import Trainer, TrainConfig

START, DELIM, EXTRACT = "<start>", "<delim>", "<extract>"
SPECIAL_TOKENS = (START, DELIM, EXTRACT)


def classification_input(text_ids, start_id, extract_id):
    """GPT-1's input transformation for text classification: <start> text <extract>."""
    return [start_id, *text_ids, extract_id]


def entailment_input(premise_ids, hypothesis_ids, *, start_id, delim_id, extract_id):
    """GPT-1's input transformation for a pair of texts: <start> premise <delim> hypothesis <extract>."""
    return [start_id, *premise_ids, delim_id, *hypothesis_ids, extract_id]


def auxiliary_loss(task_loss, lm_loss, lm_weight):
    """L3 = L2 + lambda * L1 (GPT-1, eq. 5), with both terms as losses (mean negative log-likelihoods)."""
    return task_loss + lm_weight * lm_loss


def pad_sequences(sequences, pad_id=0):
    """Right-pad token lists into a (B, T) tensor; also returns their lengths (B,)."""
    lengths = torch.tensor([len(s) for s in sequences])
    idx = torch.full((len(sequences), int(lengths.max())), pad_id, dtype=torch.long)
    for row, seq in enumerate(sequences):
        idx[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
    return idx, lengths


class GPTClassifier(nn.Module):
    """A pre-trained GPT plus GPT-1's classification head W_y on the last token's hidden state."""

    def __init__(self, gpt, n_classes):
        super().__init__()
        self.gpt = gpt
        self.head = nn.Linear(gpt.config.n_embd, n_classes)  # W_y
        nn.init.normal_(self.head.weight, std=0.02)
        nn.init.zeros_(self.head.bias)

    @property
    def config(self):
        return self.gpt.config

    def forward(self, idx, lengths, labels=None, lm_weight=0.0):
        """idx (B, T) right-padded inputs with their lengths (B,) -> class logits (B, n_classes) and,
        given labels (B,), the loss L2 (+ lm_weight * L1 when lm_weight > 0)."""
        h = self.gpt.hidden_states(idx)  # (B, T, C)
        last = h[torch.arange(idx.size(0), device=idx.device), lengths - 1]  # h_l^m: the <extract> token, (B, C)
        logits = self.head(last)  # (B, n_classes)
        if labels is None:
            return logits, None
        loss = F.cross_entropy(logits, labels)  # -L2, averaged over the batch
        if lm_weight > 0:
            loss = auxiliary_loss(loss, self.lm_loss(h, idx, lengths), lm_weight)
        return logits, loss

    def lm_loss(self, h, idx, lengths):
        """-L1 on the inputs themselves: next-token loss at every real (non-padding) position."""
        logits = self.gpt.lm_head(h[:, :-1])  # position t predicts token t + 1
        targets = idx[:, 1:].clone()
        positions = torch.arange(1, idx.size(1), device=idx.device)
        targets[positions[None, :] >= lengths[:, None]] = IGNORE_INDEX  # padding is not text
        return F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=IGNORE_INDEX)


class ClassificationData:
    """Labelled token sequences (already transformed), served as random batches for the Trainer."""

    def __init__(self, train, val, batch_size, pad_id=0):
        """train, val: lists of (token_ids, label)."""
        for split, examples in (("train", train), ("val", val)):
            if not examples:
                raise ValueError(f"ClassificationData: the {split} split is empty")
        self.splits = {"train": train, "val": val}
        self.batch_size, self.pad_id = batch_size, pad_id

    def get_batch(self, split, generator=None):
        examples = self.splits[split]
        picks = torch.randint(len(examples), (self.batch_size,), generator=generator).tolist()
        return self.collate([examples[i] for i in picks])

    def collate(self, examples):
        idx, lengths = pad_sequences([ids for ids, _ in examples], self.pad_id)
        return idx, lengths, torch.tensor([label for _, label in examples])


def classifier_loss(lm_weight=0.0):
    """A Trainer loss_fn for a GPTClassifier: L2, or L3 = L2 + lm_weight * L1."""

    def loss_fn(model, batch):
        idx, lengths, labels = batch
        return model(idx, lengths, labels, lm_weight=lm_weight)[1]

    return loss_fn


@torch.no_grad()
def accuracy(model, data, split, batch_size=256):
    """Fraction of a split's examples whose highest-scoring class is the label."""
    was_training = model.training
    model.eval()
    examples, correct = data.splits[split], 0
    for start in range(0, len(examples), batch_size):
        idx, lengths, labels = data.collate(examples[start : start + batch_size])
        correct += (model(idx, lengths)[0].argmax(dim=-1) == labels).sum().item()
    model.train(was_training)
    return correct / len(examples)


def fine_tune(gpt, data, n_classes, *, lm_weight=0.0, config=None):
    """GPT-1's fine-tuning: put a new head W_y on `gpt` and train every weight on `data` (L2, or
    L3 = L2 + lm_weight * L1). Changes `gpt` in place (pass a copy to keep the original); returns the
    classifier and its training history."""
    config = config or TrainConfig()
    torch.manual_seed(config.seed)  # the new head's initial weights
    model = GPTClassifier(gpt, n_classes)
    trainer = Trainer(model, data, config, loss_fn=classifier_loss(lm_weight))
    return model, trainer.run()
