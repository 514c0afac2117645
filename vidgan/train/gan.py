"""The GAN training loop shared by every vidgan model.

A task (restoration, generation, ...) supplies its generator, its discriminators, its batches
and its losses; this loop supplies the rest: alternating discriminator and generator steps,
an exponential moving average of the generator's weights (the EMA is what gets exported),
mixed precision on CUDA, resumable checkpoints, a CSV log, PNG sample sheets, and data-parallel
training across processes with torchrun (gloo on CPU, NCCL on CUDA). Gradients are averaged
with an all-reduce after each backward pass rather than through the DistributedDataParallel
wrapper, because the discriminators are called piece by piece, not through one forward.

    torchrun --nproc-per-node 2 -m vidgan train restore --data corpus/train --out runs/r1
"""

from __future__ import annotations

import copy
import csv
import logging
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from vidgan.engine.device import select_device
from vidgan.errors import InputError

log = logging.getLogger(__name__)


@dataclass
class TrainSettings:
    """How long and how fast to train, and where to write."""

    out: str
    steps: int = 5000
    lr_g: float = 1e-3
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.99)
    ema: float = 0.99
    d_warmup: int = 0  # steps that train the discriminators alone before the generator
    adv_start: int = 0  # step from which the generator feels the adversarial loss
    log_every: int = 25
    sample_every: int = 500
    checkpoint_every: int = 500
    device: str = "auto"
    seed: int = 0
    resume: bool = True


@dataclass
class StepResult:
    """A loss function's result: the loss to minimise, figures to log, tensors to pass on."""

    loss: torch.Tensor
    logs: dict[str, float] = field(default_factory=dict)
    outputs: dict[str, torch.Tensor] = field(default_factory=dict)


class GanTask(Protocol):
    """What a model brings to the loop."""

    @property
    def generator(self) -> nn.Module: ...

    @property
    def discriminators(self) -> nn.ModuleDict: ...

    def batch(self, rng: np.random.Generator, device: torch.device) -> dict[str, torch.Tensor]: ...

    def generator_step(
        self, g: nn.Module, ds: nn.ModuleDict, batch: dict[str, torch.Tensor], adversarial: bool
    ) -> StepResult: ...

    def discriminator_step(
        self, ds: nn.ModuleDict, batch: dict[str, torch.Tensor], fakes: dict[str, torch.Tensor]
    ) -> StepResult: ...

    def validate(self, g: nn.Module, device: torch.device) -> dict[str, float]: ...

    def sample_sheet(self, g: nn.Module, device: torch.device, path: str) -> None: ...

    def export(self, g: nn.Module, path: str, meta: dict[str, str]) -> None: ...


def _distributed() -> tuple[int, int]:
    """(rank, world size), starting the process group when torchrun launched us."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
    rank = dist.get_rank() if dist.is_initialized() else 0
    return rank, world


def _share(modules: list[nn.Module]) -> None:
    """Give every process rank 0's weights."""
    for m in modules:
        for t in [*m.parameters(), *m.buffers()]:
            dist.broadcast(t.data, 0)


def _average_gradients(module: nn.Module, world: int) -> None:
    for p in module.parameters():
        if p.grad is not None:
            dist.all_reduce(p.grad)
            p.grad.div_(world)


@torch.no_grad()
def _update_ema(ema: nn.Module, model: nn.Module, decay: float) -> None:
    for e, m in zip(ema.parameters(), model.parameters(), strict=True):
        e.lerp_(m.detach(), 1 - decay)
    for eb, mb in zip(ema.buffers(), model.buffers(), strict=True):
        eb.copy_(mb)


def _existing_columns(path: str) -> list[str] | None:
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return None
    with open(path, newline="") as f:
        return next(csv.reader(f), None)


RUN_FILES = ("checkpoint.pt", "checkpoint.pt.tmp", "log.csv", "generator.safetensors")


def _clear_run(folder: str) -> None:
    """Remove what an earlier run wrote into ``folder`` (its checkpoint, log, weights and
    sample sheets); other files are left alone."""
    for name in os.listdir(folder):
        if name in RUN_FILES or (name.startswith("sheet_") and name.endswith(".png")):
            os.remove(os.path.join(folder, name))
            log.info("removed %s, from an earlier run", name)


def train(
    task: GanTask,
    settings: TrainSettings,
    *,
    on_step: Callable[[int, dict[str, float]], None] | None = None,
) -> str:
    """Train ``task`` and return the path of the exported EMA generator (rank 0's)."""
    rank, world = _distributed()
    if world > 1 and torch.cuda.is_available():
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    else:
        device = select_device(settings.device)
    main = rank == 0
    os.makedirs(settings.out, exist_ok=True)
    torch.manual_seed(settings.seed + rank)
    rng = np.random.default_rng(settings.seed + 1000 * rank)

    g = task.generator.to(device)
    ds = task.discriminators.to(device)
    checkpoint = os.path.join(settings.out, "checkpoint.pt")
    resuming = settings.resume and os.path.exists(checkpoint)
    if main and not resuming:
        _clear_run(settings.out)  # a new run's log and sheets never follow an old run's
    warm_up = getattr(task, "warm_up", None)  # a task's own fitting before the GAN, if it has one
    if warm_up is not None and not resuming:
        warm_up(g, rng, device)
    ema = copy.deepcopy(g).eval().requires_grad_(False)
    opt_g = torch.optim.Adam(g.parameters(), lr=settings.lr_g, betas=settings.betas)
    opt_d = torch.optim.Adam(ds.parameters(), lr=settings.lr_d, betas=settings.betas)
    amp = device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=amp)

    # resume
    step = 0
    if resuming:
        try:
            state = torch.load(checkpoint, map_location=device, weights_only=True)
            g.load_state_dict(state["g"])
            ds.load_state_dict(state["d"])
            ema.load_state_dict(state["ema"])
            opt_g.load_state_dict(state["opt_g"])
            opt_d.load_state_dict(state["opt_d"])
            step = int(state["step"])
        except (RuntimeError, KeyError, ValueError, TypeError, EOFError) as e:
            raise InputError(
                "this checkpoint does not fit the model asked for (another model, or other "
                "sizes or widths); use --fresh to start over, or another --out",
                checkpoint,
            ) from e
        # the learning rates asked for now win over the checkpoint's (to decay by hand)
        for group in opt_g.param_groups:
            group["lr"] = settings.lr_g
        for group in opt_d.param_groups:
            group["lr"] = settings.lr_d
        rng = np.random.default_rng(settings.seed + 1000 * rank + step)
        if main:
            log.info("resumed from step %d", step)
            if step >= settings.steps:
                warnings.warn(
                    f"{settings.out} is already at step {step}: nothing to train; ask for more "
                    "than that many steps to go on",
                    stacklevel=2,
                )

    if world > 1:
        _share([g, ds, ema])

    log_path = os.path.join(settings.out, "log.csv")
    log_file = open(log_path, "a", newline="") if main else None  # noqa: SIM115
    writer: Any = None
    started = time.perf_counter()
    try:
        while step < settings.steps:
            batch = task.batch(rng, device)
            logs: dict[str, float] = {}

            # generator
            train_g = step >= settings.d_warmup
            adversarial = step >= settings.adv_start
            ds.requires_grad_(False)  # the adversarial terms need no gradient for D's weights
            with torch.autocast(device.type, enabled=amp):
                g_out = task.generator_step(g, ds, batch, adversarial)
            if train_g:
                opt_g.zero_grad(set_to_none=True)
                scaler.scale(g_out.loss).backward()
                if world > 1:
                    _average_gradients(g, world)
                scaler.step(opt_g)
                _update_ema(ema, g, settings.ema)
            logs.update(g_out.logs)

            # discriminators, on the generator's outputs with gradients cut
            ds.requires_grad_(True)
            fakes = {k: v.detach() for k, v in g_out.outputs.items()}
            with torch.autocast(device.type, enabled=amp):
                d_out = task.discriminator_step(ds, batch, fakes)
            opt_d.zero_grad(set_to_none=True)
            scaler.scale(d_out.loss).backward()
            if world > 1:
                _average_gradients(ds, world)
            scaler.step(opt_d)
            scaler.update()
            logs.update(d_out.logs)
            step += 1

            # logs, pictures, checkpoints: rank 0 only
            if main and (step % settings.log_every == 0 or step == settings.steps):
                logs["step"] = step
                logs["seconds"] = round(time.perf_counter() - started, 1)
                # validation on the first row too, so the CSV's columns include it
                if writer is None or step % settings.sample_every == 0 or step == settings.steps:
                    logs.update(task.validate(ema, device))
                assert log_file is not None
                if writer is None:
                    # a resumed run keeps the columns the log already has
                    columns = _existing_columns(log_path) or list(logs)
                    writer = csv.DictWriter(log_file, fieldnames=columns, extrasaction="ignore")
                    if log_file.tell() == 0:
                        writer.writeheader()
                writer.writerow(logs)
                log_file.flush()
                if on_step is not None:
                    on_step(step, logs)
            if main and (step % settings.sample_every == 0 or step == settings.steps):
                task.sample_sheet(ema, device, os.path.join(settings.out, f"sheet_{step:06d}.png"))
            if main and (step % settings.checkpoint_every == 0 or step == settings.steps):
                state = {
                    "g": g.state_dict(),
                    "d": ds.state_dict(),
                    "ema": ema.state_dict(),
                    "opt_g": opt_g.state_dict(),
                    "opt_d": opt_d.state_dict(),
                    "step": step,
                }
                torch.save(state, checkpoint + ".tmp")
                os.replace(checkpoint + ".tmp", checkpoint)
    finally:
        if log_file is not None:
            log_file.close()

    exported = os.path.join(settings.out, "generator.safetensors")
    if main:
        seconds = time.perf_counter() - started
        task.export(ema, exported, {"steps": str(step), "train_seconds": f"{seconds:.0f}"})
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
    return exported
