"""The `vidgan` command: options, progress and messages. The work happens in vidgan.tasks."""

from __future__ import annotations

import logging
import math
import os
import signal
import sys
import warnings
from collections.abc import Callable
from dataclasses import replace
from typing import Any, NoReturn, TypeVar

import click
from tqdm import tqdm

from vidgan import __version__
from vidgan.errors import VidganError
from vidgan.tasks.restore import DEFAULT_MODEL, MODELS, default_output, restore
from vidgan.video import WriterSettings, probe
from vidgan.video.writer import X26X_PRESETS

F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"vidgan: error: {message}", err=True)
    sys.exit(code)


def _show_warning(message: Warning | str, category: type[Warning], *args: Any, **kw: Any) -> None:
    tqdm.write(f"vidgan: warning: {message}", file=sys.stderr)  # above a progress bar, if one runs


def _count(n: int, noun: str) -> str:
    """``1 frame``, ``2 frames``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


class _Progress:
    """A tqdm bar on stderr fed by the task's callbacks; frames, fps and ETA.

    The bar appears with the first frame written, so that an error in setting up (an
    encoder that refuses its settings) stands alone on stderr.
    """

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.total: int | None = None
        self.bar: tqdm[Any] | None = None

    def start(self, total: int | None) -> None:
        self.total = total

    def frame(self, done: int) -> None:
        if self.quiet:
            return
        if self.bar is None:
            self.bar = tqdm(total=self.total, unit="frame", dynamic_ncols=True, file=sys.stderr)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="vidgan")
@click.option("-v", "--verbose", is_flag=True, help="Log what vidgan decides (codecs, streams).")
def cli(verbose: bool) -> None:
    """Restore and generate video with GANs, from files or live streams.

    Re-voicing (`vidgan lipsync`: a mouth that follows new speech) is planned, not yet built.
    """
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="vidgan: %(message)s"
    )
    warnings.showwarning = _show_warning


class _Seconds(click.FloatRange):
    """A FloatRange that also refuses nan, which passes every comparison of a range."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        seconds = super().convert(value, param, ctx)
        if math.isnan(seconds):
            self.fail("nan is not a number of seconds", param, ctx)
        return seconds


def _model_options(batch: int, most: int, batch_help: str) -> Callable[[F], F]:
    """-m, --weights, -b, --device and --precision, as `restore` and `stream` take them."""
    options = [
        click.option(
            "-m",
            "--model",
            type=click.Choice(list(MODELS)),
            default=DEFAULT_MODEL,
            show_default=True,
            help="gan: the temporal restoration GAN; gan-perframe: the same without its look "
            "at past frames; classic: colour, haze and noise correction with OpenCV; "
            "identity: pass-through, to measure the pipeline.",
        ),
        click.option(
            "--weights",
            type=click.Path(dir_okay=False),
            help="Generator weights for -m gan (from `vidgan train restore`) [default: embedded].",
        ),
        click.option(
            "-b",
            "--batch",
            type=click.IntRange(1, most),
            default=batch,
            show_default=True,
            help=batch_help,
        ),
        click.option(
            "--device",
            default="auto",
            show_default=True,
            help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps.",
        ),
        click.option(
            "--precision",
            type=click.Choice(["auto", "fp32", "fp16", "bf16"]),
            default="auto",
            show_default=True,
            help="auto: fp16 on CUDA, bf16 on CPUs that have it, else fp32.",
        ),
    ]

    def apply(command: F) -> F:
        for option in reversed(options):
            command = option(command)
        return command

    return apply


@cli.command("restore")
@click.argument("input", type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Output file [default: INPUT's name + .restored.mp4, beside it].",
)
@_model_options(4, 256, "Frames per model call.")
@click.option(
    "--crf",
    type=click.IntRange(0, 51),
    default=18,
    show_default=True,
    help="Quality: lower is better and bigger.",
)
@click.option(
    "--preset",
    type=click.Choice(X26X_PRESETS),
    default="veryfast",
    show_default=True,
    help="x264/x265 speed preset.",
)
@click.option(
    "--codec",
    default=None,
    help="Video encoder (libx264, libx265, libvpx-vp9, ...)  [default: libx264; libvpx-vp9 "
    "for .webm]",
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
    codec: str | None,
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
            f"wrote {result.output}: {_count(result.frames, 'frame')} in {result.seconds:.1f} s "
            f"({result.fps:.1f} fps)",
            err=True,
        )


@cli.command("stream")
@click.argument("source")
@click.option(
    "-o",
    "--output",
    "outputs",
    multiple=True,
    metavar="FILE|URL",
    help="A file (.ts, .mkv, .mp4, .mov, .webm) or a URL (udp://HOST:PORT?pkt_size=1316, srt://, "
    "tcp://, rtmp://, rtsp://) to send the restored stream to (repeatable).",
)
@click.option("--show", is_flag=True, help="Show the restored stream in a window (q quits).")
@click.option(
    "--virtual-camera",
    is_flag=True,
    help="Send to a virtual webcam (pip install 'vidgan[virtualcam]').",
)
@_model_options(1, 64, "Frames per model call; each one more adds a frame period of latency.")
@click.option(
    "--duration",
    type=_Seconds(0, min_open=True),
    metavar="SECONDS",
    help="Stop this long after the stream starts, by the wall clock, reconnections included "
    "[default: until Ctrl-C, or the end of a file].",
)
@click.option(
    "--realtime/--no-realtime",
    default=True,
    show_default=True,
    help="A file SOURCE plays at its own frame rate, dropping what the model cannot keep up "
    "with; --no-realtime feeds it every frame, as fast as the model goes.",
)
@click.option(
    "--stats",
    "stats_every",
    type=_Seconds(0, min_open=True),
    metavar="SECONDS",
    help="Print latency, fps and drops every SECONDS.",
)
@click.option(
    "--stats-json",
    type=click.Path(dir_okay=False),
    help="Write the statistics as JSON to this file (at each --stats interval and at the end).",
)
@click.option(
    "-I",
    "--input-option",
    "input_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="FFmpeg option for the source, e.g. -I video_size=1280x720 -I framerate=30 for a "
    "camera, -I rtsp_transport=tcp (repeatable); one that the source does not take is refused.",
)
@click.option(
    "--read-timeout",
    type=_Seconds(0.1),
    default=2.0,
    show_default=True,
    help="Seconds without data before a network source is reconnected.",
)
@click.option(
    "--connect-timeout",
    type=_Seconds(0.1),
    default=10.0,
    show_default=True,
    help="Seconds to wait for a network source to start.",
)
@click.option(
    "--crf", type=click.IntRange(0, 51), default=23, show_default=True, help="Output quality."
)
@click.option(
    "--preset",
    type=click.Choice(X26X_PRESETS),
    default="ultrafast",
    show_default=True,
    help="x264 speed preset of the outputs; slower ones cost the model CPU time.",
)
@click.option("-y", "--overwrite", is_flag=True, help="Replace output files that exist.")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors and --stats lines.")
def stream_cmd(
    source: str,
    outputs: tuple[str, ...],
    show: bool,
    virtual_camera: bool,
    model: str,
    weights: str | None,
    batch: int,
    device: str,
    precision: str,
    duration: float | None,
    realtime: bool,
    stats_every: float | None,
    stats_json: str | None,
    input_options: tuple[str, ...],
    read_timeout: float,
    connect_timeout: float,
    crf: int,
    preset: str,
    overwrite: bool,
    quiet: bool,
) -> None:
    """Restore a live SOURCE as it arrives: a camera, a network stream, or a file.

    SOURCE is a camera (an index such as 0, or a device path such as /dev/video0), a URL
    that FFmpeg opens (udp://0.0.0.0:5000, rtsp://..., rtmp://..., http://...), or a video file,
    played at its own rate. Only the newest frame is processed: when the model falls
    behind, frames are dropped and counted, so the delay never grows. A network source that
    stalls or drops is reconnected. Ctrl-C stops the stream and finishes the outputs; the
    statistics are printed on exit.
    """
    from vidgan.tasks.stream import LIVE_SETTINGS, StreamFailed, StreamResult, stream
    from vidgan.video.live import SourceSettings, UnusedOptionError

    options = {}
    for item in input_options:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="'-I'")
        options[key] = value
    if not (outputs or show or virtual_camera) and not quiet:
        click.echo("vidgan: no output (-o, --show, --virtual-camera): measuring only", err=True)

    def started(description: str) -> None:
        if not quiet:
            click.echo(f"vidgan: streaming {description} through {model}; Ctrl-C stops", err=True)

    def report(result: StreamResult) -> None:
        if not quiet:
            click.echo(f"{result.ended}: {result.total.describe()}", err=True)

    try:
        result = stream(
            source,
            outputs,
            model=model,
            weights=weights,
            device=device,
            precision=precision,
            batch=batch,
            show=show,
            virtual_camera=virtual_camera,
            duration=duration,
            source_settings=SourceSettings(
                options=options,
                realtime=realtime,
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
            ),
            settings=replace(LIVE_SETTINGS, crf=crf, preset=preset, overwrite=overwrite),
            stats_every=stats_every,
            on_start=started,
            on_stats=lambda s: click.echo(f"vidgan: {s.describe()}", err=True),
            stats_json=stats_json,
        )
    except UnusedOptionError as e:
        raise click.BadParameter(str(e), param_hint="'-I' / '--input-option'") from None
    except StreamFailed as e:
        report(e.result)
        raise
    report(result)
    for target in result.outputs:
        if not quiet and "://" not in target:
            click.echo(f"wrote {target}", err=True)


@cli.group("train")
def train_group() -> None:
    """Train vidgan's models (resumable; runs under torchrun for several processes)."""


# options that every `vidgan train` command has
_out_option = click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False),
    help="Run folder: checkpoint, log.csv, sample sheets, generator.safetensors.",
)
_sample_every_option = click.option(
    "--sample-every",
    type=click.IntRange(1),
    default=250,
    show_default=True,
    help="Steps between sample sheets, validation and checkpoints.",
)


def _run_options(command: Any) -> Any:
    """--device, --seed, --fresh and -q/--quiet."""
    for option in reversed(
        [
            click.option("--device", default="auto", show_default=True),
            click.option(  # torch takes seeds below 2**64; each process adds its rank
                "--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True
            ),
            click.option(
                "--fresh",
                is_flag=True,
                help="Start over: remove the checkpoint, log.csv, sheets and weights of an "
                "earlier run in --out.",
            ),
            click.option("-q", "--quiet", is_flag=True, help="No progress bar."),
        ]
    ):
        command = option(command)
    return command


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
@_out_option
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
    default=128,
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
    default=24,
    show_default=True,
    help="Channels of the generator's network.",
)
@_sample_every_option
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
@click.option(
    "--colour-steps",
    type=click.IntRange(0),
    default=3000,
    show_default=True,
    help="Steps fitting the global colour head to whole pictures before the GAN starts "
    "(2 to 3 minutes on a 2-core CPU; 0 leaves it at the identity).",
)
@_run_options
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
    colour_steps: int,
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
    from vidgan.train.gan import TrainSettings
    from vidgan.train.restore import RestoreTask, RestoreTrainConfig

    if not data and not paired:
        raise click.UsageError("give --data, --paired, or both")
    if crop % 8:
        raise click.BadParameter(f"{crop} is not a multiple of 8", param_hint="'--crop'")
    torch_seed(seed)
    task = RestoreTask(
        ClipSource(list(data)) if data else None,
        PairedSource(*paired) if paired else None,
        model=RestoreConfig(width=width),
        config=RestoreTrainConfig(batch=batch, crop=crop, length=length, colour_steps=colour_steps),
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
    resuming = not fresh and os.path.exists(os.path.join(out, "checkpoint.pt"))
    if colour_steps and not resuming and not quiet:
        click.echo(
            "vidgan: fitting the global colour head to whole pictures first (a few minutes)",
            err=True,
        )
    _train_with_progress(task, settings, quiet, ("g_loss", "val_psnr"))


def _train_with_progress(task: Any, settings: Any, quiet: bool, shown: tuple[str, ...]) -> None:
    """Run `vidgan.train.gan.train` under a step bar showing the ``shown`` log figures."""
    from vidgan.train.gan import train

    bar = (
        None
        if quiet
        else tqdm(total=settings.steps, unit="step", file=sys.stderr, dynamic_ncols=True)
    )

    def progress(step: int, logs: dict[str, float]) -> None:
        if bar is not None:
            bar.update(step - bar.n)
            bar.set_postfix({k: f"{v:.3f}" for k, v in logs.items() if k in shown})

    try:
        path = train(task, settings, on_step=progress)
    finally:
        if bar is not None:
            bar.close()
    click.echo(f"wrote {path}", err=True)


def torch_seed(seed: int) -> None:
    import torch

    torch.manual_seed(seed)


@train_group.command("generate")
@click.option(
    "--data",
    "data",
    multiple=True,
    required=True,
    help="Folder of videos (and stills, panned) to learn from, or 'procedural' for moving "
    "shapes over sample photographs, with known masks (repeatable).",
)
@_out_option
@click.option("--steps", type=click.IntRange(1), default=3000, show_default=True)
@click.option(
    "--batch", type=click.IntRange(1), default=8, show_default=True, help="Clips per step."
)
@click.option(
    "--frames",
    type=click.IntRange(1),
    default=32,
    show_default=True,
    help="Frames per clip, a multiple of SIZE / 4.",
)
@click.option(
    "--size",
    type=click.IntRange(8),
    default=64,
    show_default=True,
    help="Frame side, a power of two.",
)
@click.option(
    "--width",
    type=click.IntRange(1),
    default=8,
    show_default=True,
    help="Foreground channels at half size (doubled per coarser grid); try 32 on a GPU.",
)
@click.option(
    "--stride",
    type=click.IntRange(1),
    default=2,
    show_default=True,
    help="Clips from videos take every 1st to every STRIDE-th frame, at random.",
)
@click.option(
    "--d-warmup",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="Steps that train the discriminator alone before the generator starts.",
)
@click.option(
    "--lr",
    type=click.FloatRange(0, min_open=True),
    default=2e-4,
    show_default=True,
    help="Adam learning rate of both networks (beta1 0.5, as in the paper).",
)
@_sample_every_option
@click.option("--no-encoder", is_flag=True, help="Skip the still-image encoder of `animate`.")
@_run_options
def train_generate_cmd(
    data: tuple[str, ...],
    out: str,
    steps: int,
    batch: int,
    frames: int,
    size: int,
    width: int,
    stride: int,
    d_warmup: int,
    lr: float,
    sample_every: int,
    no_encoder: bool,
    device: str,
    seed: int,
    fresh: bool,
    quiet: bool,
) -> None:
    """Train the two-stream video GAN; its EMA generator lands in OUT/generator.safetensors.

    Use it with `vidgan generate --weights OUT/generator.safetensors`.
    """
    from vidgan.data.procedural import ProceduralSource
    from vidgan.models.video_gan import GenerateConfig
    from vidgan.train.gan import TrainSettings
    from vidgan.train.generate import (
        FolderClips,
        GenerateTask,
        GenerateTrainConfig,
        ProceduralClips,
        folder_source,
    )

    if "procedural" in data and len(data) > 1:
        raise click.UsageError("--data procedural cannot be mixed with folders")
    if size & (size - 1):
        raise click.BadParameter(f"{size} is not a power of two", param_hint="'--size'")
    if frames % (size // 4):
        raise click.BadParameter(
            f"{frames} is not a multiple of SIZE / 4 = {size // 4}", param_hint="'--frames'"
        )
    model = GenerateConfig(frames=frames, size=size, width=width, encoder=not no_encoder)
    torch_seed(seed)
    real = (
        ProceduralClips(ProceduralSource(), frames, size)
        if data == ("procedural",)
        else FolderClips(folder_source(list(data), size), frames, size, stride)
    )
    task = GenerateTask(real, model=model, config=GenerateTrainConfig(batch=batch), seed=seed)
    settings = TrainSettings(
        out=out,
        steps=steps,
        lr_g=lr,
        lr_d=lr,
        betas=(0.5, 0.999),
        ema=0.995,
        d_warmup=d_warmup,
        device=device,
        seed=seed,
        resume=not fresh,
        sample_every=sample_every,
        checkpoint_every=sample_every,
    )
    _train_with_progress(task, settings, quiet, ("g_loss", "d_loss", "val_mask"))


class _ClipBar:
    """A bar over clips, shown from the first clip on, so that an early error stands alone."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.bar: tqdm[Any] | None = None

    def update(self, done: int, total: int) -> None:
        if self.quiet:
            return
        if self.bar is None:
            self.bar = tqdm(total=total, unit="clip", file=sys.stderr, dynamic_ncols=True)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


_frames_option = click.option(
    "--frames",
    type=click.IntRange(1, 1024),  # vidgan.tasks.generate.MAX_FRAMES, without importing torch
    help="Frames per clip [default: the model's, 16 for the embedded one]; other lengths "
    "extend the learned motion.",
)
_fps_option = click.option(
    "--fps", type=click.IntRange(1, 240), default=16, show_default=True, help="Frame rate."
)
_weights_option = click.option(
    "--weights",
    type=click.Path(dir_okay=False),
    help="Generator weights (from `vidgan train generate`) [default: embedded].",
)


@cli.command("generate")
@click.option(
    "-n", "count", type=click.IntRange(1, 100_000), default=8, show_default=True, help="Clips."
)
@click.option(
    "--seed",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="The same seed gives the same clips; clip i depends on the seed and i only.",
)
@_frames_option
@click.option(
    "-o",
    "--output",
    "folder",
    type=click.Path(file_okay=False),
    default="generated",
    show_default=True,
    help="Folder for clip_000.mp4 ... and sheet.png (made if missing).",
)
@click.option(
    "--interpolate",
    is_flag=True,
    help="Also write interpolation.mp4: 8 clips on the path from clip 0's latent to "
    "clip 1's, side by side.",
)
@_fps_option
@_weights_option
@click.option("--device", default="auto", show_default=True)
@click.option("-y", "--overwrite", is_flag=True, help="Replace clips and sheet that exist.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def generate_cmd(
    count: int,
    seed: int,
    frames: int | None,
    folder: str,
    interpolate: bool,
    fps: int,
    weights: str | None,
    device: str,
    overwrite: bool,
    quiet: bool,
) -> None:
    """Generate short clips with the two-stream video GAN (Vondrick et al. 2016).

    A moving foreground and its mask come from a 3D-convolutional stream, one still
    background from a 2D stream; sheet.png shows, for each clip, frames of the composite,
    the foreground, the mask and the background. The embedded model makes 16 frames of
    32x32, learned from moving shapes over photographs.
    """
    from vidgan.tasks.generate import generate

    bar = _ClipBar(quiet)
    try:
        result = generate(
            folder,
            count,
            seed=seed,
            frames=frames,
            fps=fps,
            weights=weights,
            device=device,
            interpolate=interpolate,
            settings=WriterSettings(overwrite=overwrite),
            on_clip=bar.update,
        )
    finally:
        bar.close()
    if not quiet:
        click.echo(
            f"wrote {_count(len(result.clips), 'clip')} of {_count(result.frames, 'frame')} and "
            f"{result.sheet} "
            f"in {result.seconds:.1f} s",
            err=True,
        )


@cli.command("animate")
@click.argument("image", type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Output clip [default: IMAGE's name + .animated.mp4, beside it].",
)
@_frames_option
@_fps_option
@_weights_option
@click.option("--device", default="auto", show_default=True)
@click.option("-y", "--overwrite", is_flag=True, help="Replace OUTPUT if it exists.")
def animate_cmd(
    image: str,
    output: str | None,
    frames: int | None,
    fps: int,
    weights: str | None,
    device: str,
    overwrite: bool,
) -> None:
    """Predict the future of a still IMAGE: encode it into the video GAN and paint a clip.

    The image's centre square is resized to the model's size (32x32 for the embedded one).
    Also writes the output's name + .sheet.png with the foreground, mask and background.
    """
    import os

    from vidgan.tasks.generate import animate

    output = output or os.path.splitext(image)[0] + ".animated.mp4"
    result = animate(
        image,
        output,
        frames=frames,
        fps=fps,
        weights=weights,
        device=device,
        settings=WriterSettings(overwrite=overwrite),
    )
    length = _count(result.frames, "frame")
    click.echo(f"wrote {result.clips[0]} ({length}) and {result.sheet}", err=True)


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
