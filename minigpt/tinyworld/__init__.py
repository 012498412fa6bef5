"""TinyWorld: the course's default corpus, generated offline in seconds by seeded code.

THE WORLD (world.py, plain tables; `describe()`, in text.py, prints a summary)
  100 animals, 20 in each of five kinds: bird, fish, mammal, insect, reptile; 16 people, each with
  a home, a pet and a favourite food; objects, foods, colours, places, the numbers zero to twenty;
  24 pairs of opposites; 31 things with a known colour; and zorbish, a made-up language of 32 words.

THE TEXT (text.py; every sentence form is a template in grammar.py)
  Paragraphs separated by a blank line, lowercase, using only the characters of CHARSET:
  - stories:       tom went to the park. he saw three foxes near the park. the fox licked its fur.
                   tom had four apples. he got two more. now he has six apples. he was happy.
  - descriptions:  the robin: it has feathers; it lays eggs in a nest. once the robin sang in a tree.
  - facts, in several forms each, sometimes under an instruction line ("give the opposite of each word."):
      opposites    the opposite of hot is cold. / cold is the opposite of hot. / hot and cold are opposites.
      plurals      one fox, two foxes. / the plural of fox is foxes. / one fox, many foxes.
      categories   a robin is a kind of bird. / a robin is a bird. / robins are birds.
      colours      what colour is a banana? yellow. / a banana is yellow. / the colour of a banana is yellow.
      arithmetic   two plus three is five. / 2 plus 3 is 5. / what is two plus three? five. / 2 plus 3 = 5.
      translation  english: dog = zorbish: kava / in zorbish, dog is 'kava'. / english: red dog = zorbish: kava rul
      qa           q: where does tom live? a: in the forest. / question: what pet does tom have? answer: a dog.
  - lists:         my list: bread, pears, jam. / count the ducks: one, two, three. there are three ducks.
  - lex lines:     lex: bim -> red, taf -> cold, bim -> red   (mapping.py: a fresh random mapping per line,
                   about 15% of the text, so that in-context learning can emerge)

THE TASKS (tasks.py)
  tasks(seed) -> {name: Task}: the prompt is the first form above cut before the answer ("the opposite
  of hot is" -> " cold"), with 4 choices (chance is 25%). For each task
  some items are HELD OUT (world.HELDOUT): none of the task's forms ever states them, while a story
  gives an indirect cue a model could generalise from:
      opposites    both words appear in stories, together: "the road was wet, but then it was dry."
      plurals      the plural appears with a number: "he saw three geese near the lake."
      categories   stories show what the animal does ("the swan flew over the hill."; "it has feathers")
      colours      the colour appears as an adjective: "mia saw a yellow lemon."
      arithmetic   the swapped sum is not held out: "four plus three is seven." (word problems skip held-out sums)
      translation  the word appears inside two-word phrases: "english: big fox = zorbish: ruda gar"
      qa           the fact is told in stories ("mia lives in the town.") but never asked and answered
  context_mapping_task(seed, n_pairs=k) evaluates lex lines: zero-shot is chance by construction.
  category_classification(seed): which kind of animal a sentence mentions; test animals are disjoint from train's.
  acceptability(seed): a sentence as written or with its words shuffled (GPT-1's CoLA, in miniature).

THE SECOND HALF (instructions.py, labeler.py, dialogues.py)
  instructions(seed) -> {"train", "validation", "test"}: requests about the World with demonstrations in one house
  style (a word, a phrase, N items, a count, a short story, a clarifying question, a correction of a false premise);
  the test split asks about what HELDOUT keeps out of the text. GoldLabeler(instructions).gold_score(prompt,
  response) and .rank(prompt, responses): the stand-in for human judgement, six readable rules, optional noise.
  dialogues(seed) -> {"train", "validation", "test"}: ChatGPT's five behaviours (clarify, follow up, admit a mistake,
  challenge a false premise, decline), each with its contrast where it has one, split the same way;
  DialogueLabeler().behaves(dialogue, reply), .gold_score and .rank judge a reply by what it should do.

FOR SCALING (longtail.py)
  LongTailWorld(people, exponent): made-up people with six facts each, mentioned with frequencies falling as a
  power of their rank; .text(n, seed) writes lines about them, .floor(lines) is the text's exact entropy per
  character, the loss of a model that knows the world perfectly.
"""
from .dialogues import Dialogue, DialogueLabeler, deep_dialogues, dialogues, with_history
from .instructions import Instruction, instructions
from .labeler import GoldLabeler
from .longtail import LongTailWorld
from .tasks import Example, LabelledSentences, Task, acceptability, category_classification, context_mapping_task, tasks
from .text import CHARSET, corpus_stats, describe, generate_corpus
from .world import HELDOUT, World

__all__ = [
    "CHARSET", "Dialogue", "DialogueLabeler", "Example", "GoldLabeler", "Instruction", "instructions", "LabelledSentences", "LongTailWorld", "acceptability", "HELDOUT", "Task", "World", "category_classification",
    "context_mapping_task", "corpus_stats", "deep_dialogues", "describe", "dialogues", "with_history", "generate_corpus", "tasks",
]
