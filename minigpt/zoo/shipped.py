"""What a shipped model is: a recipe, the code that trains it, the figures measured from its weights, a name.

Models whose training is not a notebook's lesson are trained once by `make models` and shipped inside the package,
as OpenAI published GPT-2. Each stage of the course (pretraining.py, instruct.py, rlhf.py, chat.py, scaling.py)
defines its models as Shipped entries, and a stage that starts from another stage's model gets it with one call,
`BASE.load(recipe["base"])`: the shipped weights when the recipe is the shipped one, else your cache, else
trained now.
"""
from dataclasses import dataclass, field
from typing import Callable

from ..cache import cached_run
from ..model import GPT, parameter_count


@dataclass
class Shipped:
    """A model trained once by `make models` and shipped in minigpt/weights/NAME/."""
    name: str
    recipe: dict  # everything that decides what training produces (the cache's key)
    fit: Callable  # (recipe, progress) -> (model, record): the training alone
    measure: Callable  # model -> {figure: number}: the key figures, measured from the weights
    key: str  # the figure printed in make models' table
    about: str
    quick: dict = field(default_factory=lambda: {"max_iters": 4, "eval_every": 2})  # a recipe change for a smoke test
    model_class: type = GPT  # what its folder holds (cache.load_model_dir)

    def train(self, recipe, progress=True):
        """(model, record): trained from recipe, the record's figures measured from the weights by self.measure."""
        model, record = self.fit(recipe, progress)
        return model, {**record, "figures": self.measure(model)}

    def load(self, recipe=None, *, train_here=False, cache_dir=None, progress=True):
        """(model, record) from this entry's recipe (or another recipe of the same model): the shipped weights,
        else your cache, else trained now. train_here=True trains it now whatever is shipped or cached."""
        recipe = self.recipe if recipe is None else recipe
        return cached_run(recipe, lambda r: self.train(r, progress), cache_dir=cache_dir, name=self.name,
                          train_here=train_here, model_class=self.model_class)


def training_record(trainer, model, curve, **extra):
    """What a model's record.json keeps of its training: the curve measured at each evaluation, the Trainer's loss
    history, the seconds it took, the parameter count. A run stopped by Ctrl-C is not a model of its recipe, so
    nothing is recorded (or stored) for it."""
    if trainer.interrupted:
        raise KeyboardInterrupt(f"training stopped at step {trainer.iter} of {trainer.config.max_iters}; "
                                "nothing was saved")
    return {"curve": curve, "history": {k: list(v) for k, v in trainer.history.items()}, "seconds": trainer.elapsed,
            "parameters": parameter_count(model), **extra}
