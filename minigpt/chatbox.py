"""A chat widget for notebook 07: type a message, press send, and read the conversation so far.

    ChatBox(model, tokenizer)              # in Jupyter: the conversation, a text box, send, reset, temperature
    ChatBox(model, tokenizer).text         # the same conversation, as text (headless runs, tests)

It starts by playing SCRIPT, a conversation that needs a clarifying question ("what pet does she have?" names no
one), at temperature 0, so that a headless run shows what a student first sees. Each message goes through
chat.Conversation: the same format, context window and seeded sampling as `python -m minigpt chat`.
"""
from .chat import Conversation
from .textwidget import TextWidget

SCRIPT = ("what pet does she have?", "ivy.", "and where does she live?")


def transcript(turns):
    """The conversation as text, one line per turn: "you: ..." and "assistant: ..."."""
    names = {"user": "you", "assistant": "assistant"}
    return "\n".join(f"{names[role]}: {text}" for role, text in turns)


class ChatBox(TextWidget):
    """ipywidgets: the conversation so far above a text box, a send button, a reset button and a temperature
    slider. `text` always holds the conversation as the student sees it, and send(message) is what the button
    calls, so a test (or a script) can drive it without a browser."""

    def __init__(self, model, tokenizer, script=SCRIPT, *, temperature=0.0, max_new_tokens=48, seed=0):
        import ipywidgets as widgets

        self.conversation = Conversation(model, tokenizer, temperature=temperature, max_new_tokens=max_new_tokens,
                                         seed=seed)
        self.message = widgets.Text(placeholder="type a message, then press send (or Enter)", description="you")
        self.send_button = widgets.Button(description="send", button_style="primary")
        self.reset_button = widgets.Button(description="reset")
        self.temperature = widgets.FloatSlider(value=temperature, min=0.0, max=1.5, step=0.1, description="temperature")
        self.output = widgets.Output()
        self.box = widgets.VBox([self.output, widgets.HBox([self.message, self.send_button]),
                                 widgets.HBox([self.temperature, self.reset_button])])
        self.send_button.on_click(lambda _: self.send(self.message.value))
        self.message.continuous_update = False
        self.message.observe(lambda change: self.send(change["new"]), names="value")
        self.reset_button.on_click(lambda _: self.reset())
        self.temperature.observe(self._set_temperature, names="value")
        self.notes, self.text = [], ""
        for line in script:
            self.send(line, show=False)
        self._show()

    def send(self, message, show=True):
        """Send a message (what the send button and Enter do); an empty box sends nothing."""
        message = message.strip()
        if not message:
            return
        try:
            _, dropped = self.conversation.say(message)
        except ValueError as err:  # too long for the context: say so, keep the conversation
            self.notes.append(f"(not sent: {err})")
        else:
            if dropped:
                self.notes.append(f"(the oldest {dropped} turns no longer fit the context and were dropped)")
        self.message.value = ""
        if show:
            self._show()

    def reset(self):
        self.conversation.reset()
        self.notes = []
        self._show()

    def _set_temperature(self, change):
        self.conversation.temperature = change["new"]

    def _show(self):
        self.show("\n".join(filter(None, [transcript(self.conversation.turns), *self.notes])))

