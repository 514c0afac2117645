"""A few training steps of the restoration GAN, alone and across two processes."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from conftest import write_video

from vidgan.cli import main
from vidgan.data.clips import ClipSource
from vidgan.models import load_restorer
from vidgan.models.restorer import RestoreConfig
from vidgan.train.gan import TrainSettings, train
from vidgan.train.restore import RestoreTask, RestoreTrainConfig


def log_rows(path: Path) -> list[dict[str, str]]:
    with open(path) as f:
        return list(csv.DictReader(f))


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "clean"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        img = rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)
        cv2.imwrite(str(folder / f"img{i}.png"), cv2.resize(img, (96, 80)))
    write_video(folder / "clip.mp4", frames=12, size=(96, 64))
    return folder


def tiny_task(corpus: Path) -> RestoreTask:
    return RestoreTask(
        ClipSource([str(corpus)]),
        model=RestoreConfig(width=4),
        config=RestoreTrainConfig(batch=2, crop=32, length=3, colour_examples=16, colour_steps=2),
    )


def test_a_few_steps_write_everything_and_resume(corpus, tmp_path):
    out = tmp_path / "run"
    settings = TrainSettings(
        out=str(out), steps=4, log_every=2, sample_every=2, checkpoint_every=2, device="cpu"
    )
    path = train(tiny_task(corpus), settings)
    assert os.path.exists(path)
    assert sorted(p.name for p in out.glob("sheet_*.png")) == [
        "sheet_000002.png",
        "sheet_000004.png",
    ]
    sheet = cv2.imread(str(out / "sheet_000004.png"))
    assert sheet is not None and sheet.shape[1] > 3 * 192  # three columns
    rows = log_rows(out / "log.csv")
    assert [int(r["step"]) for r in rows] == [2, 4]
    assert all(np.isfinite(float(r["g_loss"])) for r in rows)
    assert float(rows[-1]["val_psnr"]) > 5
    assert load_restorer(path).config.width == 4

    # resuming continues from the checkpoint rather than starting over
    train(tiny_task(corpus), TrainSettings(**{**settings.__dict__, "steps": 6}))
    rows = log_rows(out / "log.csv")
    assert [int(r["step"]) for r in rows] == [2, 4, 6]
    assert all(None not in r and None not in r.values() for r in rows)  # columns line up
    assert float(rows[-1]["val_psnr"]) > 5


def test_training_reduces_the_pixel_loss(corpus, tmp_path):
    task = tiny_task(corpus)
    settings = TrainSettings(
        out=str(tmp_path / "r"),
        steps=30,
        log_every=30,
        sample_every=30,
        checkpoint_every=30,
        device="cpu",
        lr_g=3e-3,
    )
    before = task.validate(task.generator, __import__("torch").device("cpu"))
    train(task, settings)
    rows = log_rows(tmp_path / "r" / "log.csv")
    assert float(rows[-1]["val_psnr"]) > before["val_psnr"]


def test_cli_trains_from_paired_folders(tmp_path, corpus, capsys):
    raw, ref = tmp_path / "raw", tmp_path / "ref"
    raw.mkdir()
    ref.mkdir()
    rng = np.random.default_rng(1)
    for i in range(2):
        img = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
        cv2.imwrite(str(ref / f"{i}.png"), img)
        cv2.imwrite(str(raw / f"{i}.png"), (img * 0.6).astype(np.uint8))
    out = tmp_path / "run"
    args = [
        "train",
        "restore",
        "--paired",
        str(raw),
        str(ref),
        "--out",
        str(out),
        "--steps",
        "2",
        "--batch",
        "2",
        "--crop",
        "32",
        "--colour-steps",
        "0",
        "--width",
        "4",
        "--sample-every",
        "2",
        "-q",
    ]
    try:
        main(args)
    except SystemExit as e:
        assert e.code in (0, None)
    assert (out / "generator.safetensors").exists()

    # resuming that run with another width: one line, no traceback
    wider = [*args[:-4], "8", *args[-3:]]
    assert wider[wider.index("--width") + 1] == "8"
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(wider)
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "does not fit the model asked for" in err and "--fresh" in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_two_process_data_parallel_training(corpus, tmp_path):
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc-per-node",
        "2",
        "--master-port",
        "29517",
        "-m",
        "vidgan",
        "train",
        "restore",
        "--data",
        str(corpus),
        "--out",
        str(out),
        "--steps",
        "3",
        "--batch",
        "2",
        "--crop",
        "32",
        "--colour-steps",
        "0",
        "--width",
        "4",
        "--device",
        "cpu",
        "--sample-every",
        "3",
        "-q",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = log_rows(out / "log.csv")
    assert [int(r["step"]) for r in rows][-1] == 3  # one log, written by rank 0 only
    assert (out / "generator.safetensors").exists()


def test_the_colour_head_is_fitted_first_and_then_left_alone(corpus):
    torch.manual_seed(0)
    task = RestoreTask(
        ClipSource([str(corpus)]),
        model=RestoreConfig(width=4),
        config=RestoreTrainConfig(crop=32, colour_examples=32, colour_steps=60),
    )
    head = task.generator.net.colour
    logs = task.warm_up(task.generator, np.random.default_rng(1), torch.device("cpu"))
    assert logs["colour_l1_after"] < 0.9 * logs["colour_l1_before"]
    assert any(p.abs().sum() > 0 for p in head[-1].parameters())  # no longer the identity
    assert not any(p.requires_grad for p in head.parameters())  # the GAN's steps leave it
