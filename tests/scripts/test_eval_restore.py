"""scripts/eval_restore.py: the evaluation core on a tiny panned still, classic and identity."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType

import cv2
import numpy as np
import pytest
import skimage.data

from vidgan.data.degrade import Params, clean_params, water_params

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "eval_restore.py"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("eval_restore", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


er = load_script()


def tiny_item() -> object:
    still = cv2.resize(skimage.data.coffee(), (150, 100), interpolation=cv2.INTER_AREA)
    return er.pan_clip("coffee", still, frames=8, size=(96, 64))


def settings() -> list[object]:
    return [
        er.Setting("none", "clean", lambda rng: clean_params()),
        er.Setting("noise", "read 0.04", lambda rng: Params(water_type=None, read=0.04)),
        er.Setting("underwater", "III", lambda rng: Params(**water_params(rng, "III"))),
    ]


@pytest.fixture(scope="module")
def evaluation():
    processors, notes = er.build_processors(["classic", "identity"])
    assert notes == []
    return er.evaluate([tiny_item()], settings(), processors, seed=0)


def record(ev, setting: str, method: str) -> dict[str, float]:
    (hit,) = [r for r in ev.records if r["setting"] == setting and r["method"] == method]
    return hit


def test_every_figure_is_finite_and_in_range(evaluation):
    assert len(evaluation.records) == 3 * 3  # settings x (input, classic, identity)
    for r in evaluation.records:
        assert r["psnr"] > 5 and not math.isnan(r["psnr"])
        assert -1 < r["ssim"] <= 1
        for key in ("flicker", "flicker_clean", "uiqm", "uciqe"):
            assert math.isfinite(r[key]), (key, r)
        assert r["flicker"] >= 0 and 0 < r["uciqe"] < 2 and -1 < r["uiqm"] < 10


def test_identity_on_an_undegraded_clip_is_perfect(evaluation):
    r = record(evaluation, "clean", "identity")
    assert math.isinf(r["psnr"]) or r["psnr"] > 60
    assert r["ssim"] == pytest.approx(1.0, abs=1e-6)
    assert r["flicker"] == pytest.approx(r["flicker_clean"])
    assert r["uiqm"] == pytest.approx(evaluation.clean[0]["uiqm"])


def test_input_and_identity_agree_and_the_degradations_hurt(evaluation):
    for setting in ("clean", "read 0.04", "III"):
        r_in, r_id = record(evaluation, setting, "input"), record(evaluation, setting, "identity")
        assert r_in["psnr"] == r_id["psnr"] and r_in["ssim"] == r_id["ssim"]
    # sigma 0.04 is about 10 levels: PSNR near 28 dB, a little more where clipping cuts it
    assert 26 < record(evaluation, "read 0.04", "input")["psnr"] < 31
    noisy = record(evaluation, "read 0.04", "input")
    assert noisy["flicker"] > 3 * noisy["flicker_clean"]
    assert record(evaluation, "III", "input")["psnr"] < 25
    assert record(evaluation, "III", "classic")["ms_per_frame"] > 0


def test_a_run_is_reproducible(evaluation):
    keys = ("psnr", "ssim", "flicker", "uiqm", "uciqe")
    again = er.evaluate([tiny_item()], settings(), {}, seed=0)
    for r in again.records:
        first = record(evaluation, r["setting"], "input")
        assert [r[k] for k in keys] == [first[k] for k in keys]
    other = er.evaluate([tiny_item()], settings(), {}, seed=1)
    psnr = [record(ev, "read 0.04", "input")["psnr"] for ev in (again, other)]
    assert psnr[0] != psnr[1]


def test_summary_table_and_sheet(evaluation):
    summary = er.summarise(evaluation)
    assert list(summary) == ["none", "noise", "underwater"]
    assert list(summary["noise"]) == ["clean", "input", "classic", "identity"]
    table = er.quality_table(summary)
    assert "identity" in table and "inf" in table
    sheet = er.contact_sheet(evaluation, height=60)
    # examples: (coffee, III) and (coffee, read 0.04); columns clean, degraded, classic, identity
    assert len(evaluation.examples) == 2
    assert sheet.dtype == np.uint8 and sheet.shape[0] == 24 + 2 * (60 + 4)
    assert sheet.shape[1] == 4 * (90 + 4) - 4


def test_no_reference_metrics_of_a_flat_picture_are_zero():
    grey = np.full((60, 80, 3), 128, np.uint8)
    assert er.uiqm(grey) == pytest.approx(0.0, abs=1e-9)
    assert er.uciqe(grey) == pytest.approx(0.0, abs=1e-3)
    coffee = skimage.data.coffee()
    assert 1 < er.uiqm(coffee) < 6 and 0.3 < er.uciqe(coffee) < 1


def test_unknown_and_unbuildable_models_are_set_aside(monkeypatch):
    def broken(device: str, precision: str, weights: str | None = None) -> object:
        raise FileNotFoundError("no weights")

    monkeypatch.setitem(er.MODELS, "broken", broken)
    processors, notes = er.build_processors(["identity", "no-such", "broken", "identity"])
    assert list(processors) == ["identity"]
    assert len(notes) == 2 and "'no-such'" in notes[0] and "no weights" in notes[1]
