"""How a multiple-choice document becomes model input: the one definition shared by the lm-eval
tasks and the trainer, so training optimises exactly what evaluation scores.

A document has a `question` (the user's text), an `answer_prefix` (how the answer starts, e.g.
`Answer:` or `The best option is Flight`) and single-token `labels`. The task YAMLs use
`doc_to_text: "{{question}}"`, `gen_prefix: "{{answer_prefix}}"`, `target_delimiter: " "`, which in
lm-eval 0.4.13 (`ConfigurableTask.fewshot_context` / `construct_requests`) gives:

- without a chat template: context = question + " " + answer_prefix (no space when the question
  already ends in whitespace); continuation_k = " " + label_k;
- with a chat template: context = the template applied to [user: question, assistant: answer_prefix]
  with the assistant message left open (`continue_final_message`); continuation_k = " " + label_k.

The model's distribution over the K choices is p = softmax_k log p(continuation_k | context); with
single-token labels it is the next-token distribution after the context restricted to the K label
tokens and renormalised (one forward pass). `tests/harness` checks these strings against lm-eval's.
"""

from __future__ import annotations

from collections.abc import Sequence

ANSWER_PREFIX = "Answer:"
LABELS = "ABCDEFGHIJ"


def model_context(question: str, answer_prefix: str = ANSWER_PREFIX, tokenizer=None,
                  chat: bool = False) -> str:
    """The context string that lm-eval scores the choices after (see module docstring)."""
    if chat:
        messages = [{"role": "user", "content": question}, {"role": "assistant", "content": answer_prefix}]
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=False,
                                             continue_final_message=True)
    joiner = "" if not question or question[-1].isspace() or answer_prefix[:1].isspace() else " "
    return question + joiner + answer_prefix


def continuations(labels: Sequence[str]) -> list[str]:
    """The continuation strings whose log-likelihoods lm-eval compares, one per choice."""
    return [f" {label}" for label in labels]
