"""A prompt playground for notebook 03: pick a task, a number of shots and a temperature, and see the
prompt that is built, what the model writes after it, and how likely it finds each candidate answer.

    Playground(model, tokenizer, tinyworld.tasks())        # in Jupyter: shows the widgets
    playground_text(model, tokenizer, tasks, "opposites", shots=2, temperature=0.0)   # the same, as text

Everything is seeded: the demonstrations are drawn with prompting.few_shot_prompts(seed) and the
sampled answer with a seeded generator, so the same settings always show the same output (headless
runs included). The widgets only call playground_text again when a value changes.
"""
import torch

from .prompting import completion, few_shot_prompts, score_choices
from .textwidget import TextWidget


def playground_text(model, tokenizer, tasks, task, *, shots, temperature, query=0, seed=0):
    """The playground's output for one setting, as text: the prompt, the model's answer, the choices' probabilities.

    tasks: {name: tinyworld Task}; the query is the task's held-out item number `query` (an item the
    text never states in this form). The answer probabilities are the model's probabilities of each
    whole candidate, exp(sum of its token log-probabilities), renormalised over the candidates.
    """
    if task not in tasks:
        raise ValueError(f"unknown task {task!r}; the tasks are {', '.join(tasks)}")
    items = tasks[task].heldout or tasks[task].examples
    example = items[query % len(items)]
    prompt = few_shot_prompts(tasks[task], [example], shots, seed=seed)[0]
    written = completion(model, tokenizer, prompt, temperature=temperature, seed=seed)
    logprobs = torch.tensor(score_choices(model, tokenizer, prompt, example.choices, normalize="sum"))
    probabilities = torch.softmax(logprobs, dim=0)  # P(choice) / sum of P(all choices)
    lines = [f"--- prompt ({shots} shot{'s' if shots != 1 else ''}) ---", prompt,
             f"--- the model writes (temperature {temperature:g}) ---", repr(written),
             "--- answer probabilities ---"]
    for choice, p in sorted(zip(example.choices, probabilities.tolist()), key=lambda pair: -pair[1]):
        mark = "  <- right answer" if choice == example.answer else ""
        lines.append(f"{choice!r:>14} {p:6.1%} {'#' * round(p * 30)}{mark}")
    return "\n".join(lines)


class Playground(TextWidget):
    """ipywidgets for task, shots and temperature above an output area that shows playground_text.

    `text` always holds the current output, so a test (or a script) can set a widget's value and read
    what the student would see.
    """

    def __init__(self, model, tokenizer, tasks, task=None, *, shots=2, temperature=0.0, max_shots=8, seed=0):
        import ipywidgets as widgets

        self.model, self.tokenizer, self.tasks, self.seed = model, tokenizer, tasks, seed
        self.task = widgets.Dropdown(options=list(tasks), value=task or next(iter(tasks)), description="task")
        self.shots = widgets.IntSlider(value=shots, min=0, max=max_shots, description="shots")
        self.temperature = widgets.FloatSlider(value=temperature, min=0.0, max=1.5, step=0.1, description="temperature")
        self.output = widgets.Output()
        self.box = widgets.VBox([widgets.HBox([self.task, self.shots, self.temperature]), self.output])
        for control in (self.task, self.shots, self.temperature):
            control.observe(self.update, names="value")
        self.text = ""
        self.update()

    def update(self, change=None):
        """Recompute the output for the widgets' current values (called whenever one of them changes)."""
        self.show(playground_text(self.model, self.tokenizer, self.tasks, self.task.value, shots=self.shots.value,
                                  temperature=self.temperature.value, seed=self.seed))

