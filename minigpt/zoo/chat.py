"""ChatGPT's step 1 (notebook 07 and `minigpt chat`): supervised fine-tuning on dialogues.

This stage starts from the pre-trained base model (pretraining.BASE), fine-tuned with InstructGPT's SFT recipe on
TinyWorld's dialogues and instructions together; the result is shipped as 'chat-sft':

    model, record = CHAT_SFT.load()
    behaviour_rates(model, dialogues(seed=0)["test"])     # how often each behaviour is what it should be
"""
from ..chat import respond
from ..course_tokenizer import tokenizer
from ..tinyworld import DialogueLabeler, dialogues, instructions
from .instruct import fine_tuned
from .pretraining import BASE  # the model this stage starts from
from .shipped import Shipped


def chat_sft_recipe(epochs=16, seed=0):
    """ChatGPT's step 1 on the base model: InstructGPT's SFT recipe (16 epochs, dropout 0.2, cosine) on TinyWorld's
    dialogues and its instructions together, as ChatGPT's dialogue data was mixed with InstructGPT's."""
    return {"base": BASE.recipe, "epochs": epochs, "learning_rate": 1e-3, "dropout": 0.2, "batch_size": 32,
            "seed": seed, "instructions_seed": 0, "dialogues_seed": 0}


def behaviour_rates(model, items, labeler=None):
    """{"behaviour/expect": share of items whose greedy reply (up to 40 tokens) does what it should} over Dialogues,
    and "all": the share over every item."""
    labeler = labeler or DialogueLabeler()
    replies = respond(model, tokenizer(chat=True), [list(d.turns) for d in items], max_new_tokens=40,
                      temperature=0.0)
    verdicts = {}
    for d, reply in zip(items, replies):
        verdicts.setdefault(f"{d.behaviour}/{d.expect}", []).append(labeler.behaves(d, reply))
    rates = {kind: sum(v) / len(v) for kind, v in sorted(verdicts.items())}
    return {**rates, "all": sum(sum(v) for v in verdicts.values()) / len(items)}


def train_chat_sft(recipe, progress=True):
    """Fine-tune the base model on the training dialogues and instructions; record["curve"] holds, after every
    epoch, the validation loss and the share of validation dialogues whose greedy reply behaves."""
    model, _ = BASE.load(recipe["base"], progress=progress)
    ins, dia = instructions(seed=recipe["instructions_seed"]), dialogues(seed=recipe["dialogues_seed"])
    data = {split: ins[split] + dia[split] for split in ("train", "validation")}
    curve = []

    def on_epoch(trainer):
        behaves = behaviour_rates(trainer.model, dia["validation"])["all"]
        curve.append({"step": trainer.iter, "val loss": trainer.history["val_loss"][-1], "behaves": behaves})
        return {"behaves": behaves}

    return fine_tuned(model, data, recipe, on_epoch=on_epoch, curve=curve, progress=progress)


def measure_chat(model):
    """Each behaviour's rate on the held-out (test) dialogues, and over all of them ("test behaves")."""
    rates = behaviour_rates(model, dialogues(seed=0)["test"])
    return {"test behaves": rates.pop("all"), **{f"test {kind}": rate for kind, rate in rates.items()}}


CHAT_SFT = Shipped("chat-sft", chat_sft_recipe(), train_chat_sft, measure_chat, "test behaves",
                   "notebook 07 and `minigpt chat`: the base model after SFT on dialogues and instructions "
                   "(ChatGPT's step 1)", quick={"epochs": 1, "batch_size": 512})
