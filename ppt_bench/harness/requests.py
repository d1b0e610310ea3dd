"""The lm-eval requests a task sends a model, built exactly as `lm_eval` builds them.

Used to score chosen documents outside `simple_evaluate` (the scoring benchmark, the backend's
equality tests): the task comes from the same YAML through lm-eval's `TaskManager`, its documents may
be replaced, and `Task.build_all_requests` renders them with the model's chat template.
"""

from __future__ import annotations

from pathlib import Path

from ppt_bench.harness.evaluate import TASKS_DIR, task_manager


def task_requests(task: str, lm, docs: list[dict] | None = None, size: str = "quick",
                  limit: int | None = None, include_path: Path = TASKS_DIR,
                  apply_chat_template: bool = True) -> list:
    """lm-eval `Instance`s of `task` at `size` (or of `docs`, when given), in document order.

    lm: an lm-eval LM whose `apply_chat_template` renders the prompts (used when
    `apply_chat_template`); the requests are what `lm.loglikelihood` receives in an evaluation.
    """
    from datasets import Dataset, DatasetDict
    from lm_eval.tasks import get_task_dict

    built = get_task_dict([task], task_manager(include_path, size))[task]
    if docs is not None:
        built.dataset = DatasetDict({built.config.test_split: Dataset.from_list(docs)})
    built.build_all_requests(limit=limit, apply_chat_template=apply_chat_template,
                             chat_template=lm.apply_chat_template if apply_chat_template else None,
                             tokenizer_name=getattr(lm, "tokenizer_name", ""))
    return list(built.instances)
