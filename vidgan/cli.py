"""The `vidgan` command: options, progress and messages. The work happens in vidgan.tasks."""

from __future__ import annotations

import logging
import signal
import sys
import warnings
from typing import Any, NoReturn

import click
from tqdm import tqdm

from vidgan import __version__
from vidgan.errors import VidganError
from vidgan.tasks.restore import DEFAULT_MODEL, MODELS, default_output, restore
from vidgan.video import WriterSettings, probe


def _fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"vidgan: error: {message}", err=True)
    sys.exit(code)


def _show_warning(message: Warning | str, category: type[Warning], *args: Any, **kw: Any) -> None:
    click.echo(f"vidgan: warning: {message}", err=True)


class _Progress:
    """A tqdm bar on stderr fed by the task's callbacks; frames, fps and ETA."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.bar: tqdm[Any] | None = None

    def start(self, total: int | None) -> None:
        if not self.quiet:
            self.bar = tqdm(total=total, unit="frame", dynamic_ncols=True, file=sys.stderr)

    def frame(self, done: int) -> None:
        if self.bar is not None:
            self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="vidgan")
@click.option("-v", "--verbose", is_flag=True, help="Log what vidgan decides (codecs, streams).")
def cli(verbose: bool) -> None:
    """Restore, generate and re-voice video with GANs."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="vidgan: %(message)s"
    )
    warnings.showwarning = _show_warning


@cli.command("restore")
@click.argument("input", type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Output file [default: INPUT's name + .restored.mp4, beside it].",
)
@click.option(
    "-m",
    "--model",
    type=click.Choice(list(MODELS)),
    default=DEFAULT_MODEL,
    show_default=True,
    help="gan: the temporal restoration GAN; gan-perframe: the same without its look at "
    "past frames; classic: colour, haze and noise correction with OpenCV; "
    "identity: pass-through, to measure the pipeline.",
)
@click.option(
    "--weights",
    type=click.Path(dir_okay=False),
    help="Generator weights for -m gan (from `vidgan train restore`) [default: embedded].",
)
@click.option(
    "-b",
    "--batch",
    type=click.IntRange(1, 256),
    default=4,
    show_default=True,
    help="Frames per model call.",
)
@click.option(
    "--device",
    default="auto",
    show_default=True,
    help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps.",
)
@click.option(
    "--precision",
    type=click.Choice(["auto", "fp32", "fp16", "bf16"]),
    default="auto",
    show_default=True,
    help="auto: fp16 on CUDA, bf16 on CPUs that have it, else fp32.",
)
@click.option(
    "--crf",
    type=click.IntRange(0, 51),
    default=18,
    show_default=True,
    help="Quality: lower is better and bigger.",
)
@click.option(
    "--preset",
    default="veryfast",
    show_default=True,
    help="x264/x265 speed preset (ultrafast ... veryslow).",
)
@click.option(
    "--codec",
    default="libx264",
    show_default=True,
    help="Video encoder (libx264, libx265, libvpx-vp9, ...).",
)
@click.option("--deinterlace", is_flag=True, help="Deinterlace the input (bwdif) first.")
@click.option("-y", "--overwrite", is_flag=True, help="Replace OUTPUT if it exists.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def restore_cmd(
    input: str,
    output: str | None,
    model: str,
    weights: str | None,
    batch: int,
    device: str,
    precision: str,
    crf: int,
    preset: str,
    codec: str,
    deinterlace: bool,
    overwrite: bool,
    quiet: bool,
) -> None:
    """Restore INPUT: remove colour cast, haze and noise.

    The output keeps the input's frame timing, audio and subtitle streams, size and colour
    tags; phone videos come out upright.
    """
    progress = _Progress(quiet)
    settings = WriterSettings(codec=codec, crf=crf, preset=preset, overwrite=overwrite)
    try:
        result = restore(
            input,
            output or default_output(input),
            model=model,
            weights=weights,
            batch=batch,
            device=device,
            precision=precision,
            deinterlace=deinterlace,
            settings=settings,
            on_start=progress.start,
            on_frame=progress.frame,
        )
    finally:
        progress.close()
    if not quiet:
        click.echo(
            f"wrote {result.output}: {result.frames} frames in {result.seconds:.1f} s "
            f"({result.fps:.1f} fps)",
            err=True,
        )


@cli.group("train")
def train_group() -> None:
    """Train vidgan's models (resumable; runs under torchrun for several processes)."""


@train_group.command("restore")
@click.option(
    "--data",
    "data",
    multiple=True,
    type=click.Path(file_okay=False),
    help="Folder of clean videos and images, degraded on the fly (repeatable).",
)
@click.option(
    "--paired",
    nargs=2,
    type=click.Path(file_okay=False),
    metavar="RAW REF",
    help="Folders of degraded and reference media with the same file names.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False),
    help="Run folder: checkpoint, log.csv, sample sheets, generator.safetensors.",
)
@click.option("--steps", type=click.IntRange(1), default=3000, show_default=True)
@click.option(
    "--batch",
    type=click.IntRange(1),
    default=8,
    show_default=True,
    help="Clips per step (per process).",
)
@click.option(
    "--crop",
    type=click.IntRange(16),
    default=96,
    show_default=True,
    help="Training crop side, a multiple of 8.",
)
@click.option(
    "--length",
    type=click.IntRange(2),
    default=3,
    show_default=True,
    help="Frames per training clip.",
)
@click.option(
    "--width",
    type=click.IntRange(4),
    default=16,
    show_default=True,
    help="Channels of the generator's network.",
)
@click.option(
    "--sample-every",
    type=click.IntRange(1),
    default=250,
    show_default=True,
    help="Steps between sample sheets, validation and checkpoints.",
)
@click.option(
    "--lr",
    type=click.FloatRange(0, min_open=True),
    default=1e-3,
    show_default=True,
    help="Generator learning rate (the discriminators use 2e-4).",
)
@click.option(
    "--adv-start",
    type=click.IntRange(0),
    default=300,
    show_default=True,
    help="Step from which the adversarial losses reach the generator.",
)
@click.option("--device", default="auto", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--fresh", is_flag=True, help="Ignore a checkpoint in --out and start over.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def train_restore_cmd(
    data: tuple[str, ...],
    paired: tuple[str, str] | None,
    out: str,
    steps: int,
    batch: int,
    crop: int,
    length: int,
    width: int,
    sample_every: int,
    lr: float,
    adv_start: int,
    device: str,
    seed: int,
    fresh: bool,
    quiet: bool,
) -> None:
    """Train the restoration GAN; its EMA generator lands in OUT/generator.safetensors.

    Use it with `vidgan restore INPUT --weights OUT/generator.safetensors`.
    """
    from vidgan.data.clips import ClipSource, PairedSource
    from vidgan.models.restorer import RestoreConfig
    from vidgan.train.gan import TrainSettings, train
    from vidgan.train.restore import RestoreTask, RestoreTrainConfig

    if not data and not paired:
        raise click.UsageError("give --data, --paired, or both")
    torch_seed(seed)
    task = RestoreTask(
        ClipSource(list(data)) if data else None,
        PairedSource(*paired) if paired else None,
        model=RestoreConfig(width=width),
        config=RestoreTrainConfig(batch=batch, crop=crop, length=length),
        seed=seed,
    )
    settings = TrainSettings(
        out=out,
        steps=steps,
        device=device,
        seed=seed,
        resume=not fresh,
        sample_every=sample_every,
        checkpoint_every=sample_every,
        lr_g=lr,
        adv_start=adv_start,
    )
    bar = None if quiet else tqdm(total=steps, unit="step", file=sys.stderr, dynamic_ncols=True)

    def progress(step: int, logs: dict[str, float]) -> None:
        if bar is not None:
            bar.update(step - bar.n)
            shown = {k: f"{v:.3f}" for k, v in logs.items() if k in ("g_loss", "val_psnr")}
            bar.set_postfix(shown)

    try:
        path = train(task, settings, on_step=progress)
    finally:
        if bar is not None:
            bar.close()
    click.echo(f"wrote {path}", err=True)


def torch_seed(seed: int) -> None:
    import torch

    torch.manual_seed(seed)


@cli.command("info")
@click.argument("input", type=click.Path(dir_okay=False))
def info_cmd(input: str) -> None:
    """Print what vidgan sees in INPUT: streams, size, rate, rotation, colour, duration."""
    click.echo(probe(input).describe())


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # the same clean-up as Ctrl-C: no partial file is left


def main(argv: list[str] | None = None) -> None:
    """Entry point: runs the CLI and turns every expected failure into one line on stderr."""
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _interrupt)
    try:
        cli.main(args=argv, prog_name="vidgan", standalone_mode=False)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.exceptions.NoArgsIsHelpError as e:
        click.echo(e.ctx.get_help() if e.ctx is not None else str(e), err=True)
        sys.exit(2)
    except click.UsageError as e:
        command = e.ctx.command_path if e.ctx is not None else "vidgan"
        _fail(f"{command}: {e.format_message()}", 2)
    except click.ClickException as e:
        _fail(e.format_message())
    except click.Abort:
        _fail("interrupted", 130)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except VidganError as e:
        _fail(str(e))
    except ValueError as e:
        _fail(str(e), 2)
    except MemoryError:
        _fail("out of memory; try a smaller --batch")
    except OSError as e:
        _fail(f"{e.filename or ''}: {e.strerror or e}".lstrip(": "))
