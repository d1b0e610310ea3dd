"""Export a model as a plain Hugging Face folder, loadable by transformers, vLLM and other tools.

The embedded models are GGUF files, which transformers de-quantises when it loads them but which
vLLM and most serving stacks do not take as ppt-bench resolves them. `export_model` writes:

    DIR/config.json, generation_config.json    the architecture, without a quantization_config
    DIR/model.safetensors                      the de-quantised weights in `dtype`
    DIR/tokenizer.json, tokenizer_config.json  the tokenizer (from the GGUF, for embedded models)
    DIR/chat_template.jinja                    the chat template, when the tokenizer has one
    DIR/export.json                            what was exported: source, dtype, chat template, versions

A model loaded from GGUF is de-quantised to `dtype` but stays flagged as GGUF-quantised
(`model.hf_quantizer`, `config.quantization_config`), and `save_pretrained` refuses a quantised
model: the flag is dropped first (its weights are already plain tensors). The folder is written
beside DIR under a temporary name and renamed into place, so DIR is either whole or absent; an
earlier export in DIR is replaced, any other non-empty DIR is refused.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from ppt_bench.errors import ModelError
from ppt_bench.io import write_json_atomic

EXPORT_DTYPES = ("bfloat16", "float16", "float32")
DEFAULT_EXPORT_DTYPE = "bfloat16"  # what vLLM and GPUs run; float32 for an exact copy of the CPU scores
RECORD_FILE = "export.json"


@dataclass(frozen=True)
class ExportRecord:
    """What `export.json` holds: the model as named (`source`), where its weights came from
    (`pretrained`, `gguf_file`), the dtype of the saved weights, and whether its tokenizer has a
    chat template (the default choice of `ppt-bench eval` for the folder)."""

    source: str
    pretrained: str
    gguf_file: str | None
    dtype: str
    chat_template: bool
    ppt_bench_version: str


def drop_quantization_flag(model) -> None:
    """Remove the GGUF quantisation flag of a de-quantised model, so that `save_pretrained` accepts it.

    A no-op for a model loaded from an ordinary checkpoint.
    """
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is not None:
        quantizer.remove_quantization_config(model)
    elif hasattr(model.config, "quantization_config"):
        del model.config.quantization_config


def save_plain(model, tokenizer, out_dir: Path, record: ExportRecord) -> Path:
    """Write `model` (safetensors) and `tokenizer` as a plain Hugging Face folder `out_dir`, atomically.

    `model` must already be in `record.dtype`; the quantisation flag is dropped here.
    """
    out_dir = Path(out_dir)
    _check_replaceable(out_dir)
    drop_quantization_flag(model)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; the export is an ordinary folder
    try:
        model.save_pretrained(staging, safe_serialization=True)
        tokenizer.save_pretrained(staging)
        write_json_atomic(staging / RECORD_FILE, asdict(record))
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir


def _check_replaceable(out_dir: Path) -> None:
    if out_dir.is_file():
        raise ModelError(f"{out_dir} is a file; pass a folder for the export")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / RECORD_FILE).is_file():
        raise ModelError(f"{out_dir} is not empty and holds no earlier export ({RECORD_FILE}); "
                         "pass an empty or new folder")


def export_model(name: str, out_dir: Path, dtype: str = DEFAULT_EXPORT_DTYPE) -> ExportRecord:
    """Export model `name` (see `ppt_bench.models.resolve_model`) to `out_dir` with weights in `dtype`."""
    from importlib.metadata import version

    from ppt_bench.models import default_chat_template, load_model, resolve_model

    if dtype not in EXPORT_DTYPES:
        raise ModelError(f"export dtype must be one of {', '.join(EXPORT_DTYPES)}, got {dtype!r}")
    _check_replaceable(Path(out_dir))
    resolved = resolve_model(name)
    model, tokenizer = load_model(replace(resolved, dtype=dtype))
    record = ExportRecord(source=name, pretrained=resolved.pretrained, gguf_file=resolved.gguf_file, dtype=dtype,
                          chat_template=default_chat_template(resolved), ppt_bench_version=version("ppt-bench"))
    save_plain(model, tokenizer, Path(out_dir), record)
    return record
