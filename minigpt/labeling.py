"""Be the labeler, for notebook 05: rank a prompt's K responses yourself and see whether the reward model agrees.

    BeTheLabeler(rm, tokenizer, comparisons)          # in Jupyter: a prompt, its responses, K rank dropdowns
    labeling_text(rm, tokenizer, comparison, ranking)  # the same output, as text

Your ranking (response letters, best first) becomes its C(K, 2) comparisons, winner first, exactly as a
labeler's ranking does in InstructGPT's data; the reward model agrees with a comparison when it scores the
winner higher. The widget starts at the comparison's own ranking (the labeler's), so a headless run shows the
same output as the first view in Jupyter.
"""
import string

from .reward import ranking_pairs, score_responses
from .textwidget import TextWidget

LETTERS = string.ascii_uppercase


def labeling_text(rm, tokenizer, comparison, ranking):
    """The prompt, its responses (A, B, ...) with the reward model's scores, your ranking's comparisons and which
    of them the reward model agrees with. ranking: response indices, best first (a permutation of 0..K-1)."""
    pairs = ranking_pairs(ranking)  # a clear error unless it is a permutation of at least 2 responses
    if len(ranking) != len(comparison.responses):
        raise ValueError(f"rank all {len(comparison.responses)} responses, not {len(ranking)}")
    scores = score_responses(rm, tokenizer, comparison.prompt, comparison.responses)
    lines = [f"prompt: {comparison.prompt}", "--- responses (reward model's score) ---"]
    lines += [f"{LETTERS[i]}  {scores[i]:+6.2f}  {r!r}" for i, r in enumerate(comparison.responses)]
    lines.append(f"--- your ranking: {' > '.join(LETTERS[i] for i in ranking)} ---")
    agree = 0
    for winner, loser in pairs:
        ok = scores[winner] > scores[loser]
        agree += ok
        lines.append(f"{LETTERS[winner]} > {LETTERS[loser]}   reward model {'agrees' if ok else 'disagrees'}")
    lines.append(f"the reward model agrees with {agree} of your {len(pairs)} comparisons ({agree / len(pairs):.0%})")
    return "\n".join(lines)


class BeTheLabeler(TextWidget):
    """ipywidgets: a comparison picker and one dropdown per rank (1st, 2nd, ...), above an output that shows
    labeling_text. Choosing a response for a rank swaps it with the rank that held it, so the ranking always
    stays a permutation. `text` always holds the current output and `ranking` the current ranking, so a test
    can set widget values and read what the student would see."""

    def __init__(self, rm, tokenizer, comparisons, start=0):
        import ipywidgets as widgets

        self.rm, self.tokenizer, self.comparisons = rm, tokenizer, comparisons
        self.widgets = widgets
        self.picker = widgets.Dropdown(options=[(c.prompt, n) for n, c in enumerate(comparisons)], value=start,
                                       description="prompt")
        self.ranks = widgets.HBox()
        self.output = widgets.Output()
        self.box = widgets.VBox([self.picker, self.ranks, self.output])
        self.picker.observe(self._new_comparison, names="value")
        self.text, self._quiet = "", False
        self._new_comparison()

    @property
    def comparison(self):
        return self.comparisons[self.picker.value]

    @property
    def ranking(self):
        return [dropdown.value for dropdown in self.ranks.children]

    def _new_comparison(self, change=None):
        """Show the chosen comparison, its dropdowns set to its own (the labeler's) ranking."""
        options = [(LETTERS[i], i) for i in range(len(self.comparison.responses))]
        dropdowns = [self.widgets.Dropdown(options=options, value=r, description=f"#{place + 1}",
                                           layout=self.widgets.Layout(width="110px"),
                                           style={"description_width": "30px"})  # room for the letter itself
                     for place, r in enumerate(self.comparison.ranking)]
        for dropdown in dropdowns:
            dropdown.observe(self._reorder, names="value")
        self.ranks.children = dropdowns
        self.update()

    def _reorder(self, change):
        """A response was chosen for a rank: the rank that held it gets this rank's old response."""
        if self._quiet:
            return
        self._quiet = True
        for dropdown in self.ranks.children:
            if dropdown is not change.owner and dropdown.value == change.new:
                dropdown.value = change.old
        self._quiet = False
        self.update()

    def update(self):
        self.show(labeling_text(self.rm, self.tokenizer, self.comparison, self.ranking))

