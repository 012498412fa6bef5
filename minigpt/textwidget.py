"""What the course's widgets share (labeling.BeTheLabeler, chatbox.ChatBox, playground.Playground): controls in
self.box above self.output, where self.text is printed; a test sets the controls and reads self.text.

Displayed, a widget is one output in two forms: the live widget where the front end draws widgets (JupyterLab,
Notebook), and its text where it cannot (a static rendering such as nbconvert's HTML without widget state, a
terminal). So a notebook shows it with display(widget) alone: printing widget.text as well would show a student
the same text twice.
"""


class TextWidget:
    def show(self, text):
        """Print text in the widget's output area, replacing what was there, and keep it as self.text."""
        self.text = text
        self.output.clear_output(wait=True)
        with self.output:
            print(text)

    def _repr_mimebundle_(self, **kwargs):
        return {**self.box._repr_mimebundle_(**kwargs), "text/plain": self.text}
