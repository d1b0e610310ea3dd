"""Entry point for launchers that take a script path; the trainer itself is `ppt_bench.training`.

    python training/train.py --recipe training/recipes/ppt_soft_label_cpu.yaml [key=value ...]
    accelerate launch --config_file training/accelerate/fsdp.yaml \
        training/train.py --recipe training/recipes/ppt_soft_label_gpu.yaml

The same as `ppt-bench train ...` (and `accelerate launch -m ppt_bench.cli train ...`).
"""

import sys

from ppt_bench.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
