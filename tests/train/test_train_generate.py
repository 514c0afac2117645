"""A few training steps of the video GAN, on procedural clips and on a folder of videos."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from conftest import write_video

from vidgan.cli import main
from vidgan.data.procedural import ProceduralSource
from vidgan.models import load_generator
from vidgan.models.video_gan import GenerateConfig
from vidgan.train.gan import TrainSettings, train
from vidgan.train.generate import (
    FolderClips,
    GenerateTask,
    GenerateTrainConfig,
    ProceduralClips,
    background_stillness,
    folder_source,
    motion_share_in_mask,
)

TINY = GenerateConfig(frames=8, size=16, width=2, bg_width=4, d_width=2)


def log_rows(path: Path) -> list[dict[str, str]]:
    with open(path) as f:
        return list(csv.DictReader(f))


def settings(out: Path, steps: int, d_warmup: int = 0) -> TrainSettings:
    return TrainSettings(
        out=str(out),
        steps=steps,
        d_warmup=d_warmup,
        log_every=2,
        sample_every=2,
        checkpoint_every=2,
        device="cpu",
    )


def procedural_task() -> GenerateTask:
    real = ProceduralClips(ProceduralSource(), TINY.frames, TINY.size)
    return GenerateTask(real, model=TINY, config=GenerateTrainConfig(batch=4))


def test_procedural_steps_write_everything_and_resume(tmp_path):
    out = tmp_path / "run"
    path = train(procedural_task(), settings(out, 4))
    assert sorted(p.name for p in out.glob("sheet_*.png")) == [
        "sheet_000002.png",
        "sheet_000004.png",
    ]
    picture = cv2.imread(str(out / "sheet_000004.png"))
    # composite, foreground, mask x 4 frames, background; 16-pixel tiles enlarged 6 times
    assert picture.shape[1] == 6 * (13 * 18 + 2)
    rows = log_rows(out / "log.csv")
    assert [int(r["step"]) for r in rows] == [2, 4]
    for key in ("g_loss", "d_loss", "mask", "recon", "val_mask", "val_motion_in_mask"):
        assert np.isfinite(float(rows[-1][key])), key
    g = load_generator(path)
    assert g.config == TINY and g.encoder is not None

    train(procedural_task(), settings(out, 6))
    assert [int(r["step"]) for r in log_rows(out / "log.csv")] == [2, 4, 6]

    # resuming at or past the end trains nothing, and says so
    with pytest.warns(UserWarning, match="already at step 6: nothing to train"):
        train(procedural_task(), settings(out, 4))
    assert [int(r["step"]) for r in log_rows(out / "log.csv")] == [2, 4, 6]

    # a fresh start clears the earlier run's log and sheets, and nothing else
    (out / "notes.txt").write_text("mine")
    train(procedural_task(), TrainSettings(**{**settings(out, 2).__dict__, "resume": False}))
    assert [int(r["step"]) for r in log_rows(out / "log.csv")] == [2]
    assert sorted(p.name for p in out.iterdir()) == [
        "checkpoint.pt",
        "generator.safetensors",
        "log.csv",
        "notes.txt",
        "sheet_000002.png",
    ]


def test_discriminator_warm_up_leaves_the_generator_alone(tmp_path):
    task = procedural_task()
    before = {k: v.clone() for k, v in task.generator.named_parameters()}
    train(task, settings(tmp_path / "w", 2, d_warmup=2))
    after = dict(task.generator.named_parameters())  # (batch-norm statistics do move)
    assert all(torch.equal(before[k], after[k]) for k in before)


@pytest.fixture
def videos(tmp_path: Path) -> Path:
    folder = tmp_path / "videos"
    folder.mkdir()
    write_video(folder / "a.mp4", frames=20, size=(48, 40))
    write_video(folder / "b.mkv", frames=12, size=(40, 40))
    return folder


def test_folder_clips_have_random_starts_and_strides(videos):
    real = FolderClips(folder_source([str(videos)], 16), frames=4, size=16, max_stride=3)
    clips, masks = real.draw(np.random.default_rng(0), 6)
    assert clips.shape == (6, 4, 3, 16, 16) and masks is None
    assert len({float(c[0].mean()) for c in clips}) > 1  # not all from the same start


def test_cli_trains_on_a_folder_of_videos(videos, tmp_path):
    out = tmp_path / "run"
    args = ["train", "generate", "--data", str(videos), "--out", str(out), "--steps", "2"]
    args += ["--batch", "2", "--frames", "8", "--size", "16", "--width", "2", "--stride", "2"]
    args += ["--sample-every", "2", "--d-warmup", "1", "-q"]
    main(args)  # returns normally on success
    assert load_generator(str(out / "generator.safetensors")).config.frames == 8
    assert (out / "sheet_000002.png").exists()


def test_mask_figures():
    video = torch.zeros(1, 4, 3, 8, 8)
    video[0, :, :, 2:4, 2:4] = torch.rand(4, 3, 2, 2)  # motion in one corner only
    inside = torch.zeros(1, 4, 1, 8, 8)
    inside[..., 2:4, 2:4] = 1
    assert motion_share_in_mask(video, inside) == pytest.approx(1.0)
    assert motion_share_in_mask(video, 1 - inside) == pytest.approx(0.0)
    assert background_stillness(video, inside) == 0.0
    assert background_stillness(video, torch.zeros_like(inside)) > 0
