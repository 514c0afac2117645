"""Colour signalling: which YUV matrix and range a stream uses, and the tags written on output.

FFmpeg leaves the matrix and range "unspecified" in many files. Players then guess, and so do
we, the way they do: BT.709 for HD pictures, BT.601 below, limited range unless the pixel
format is a full-range one (yuvj*). Guessing differently from players is what makes colours
shift after a round trip through a tool.
"""

from __future__ import annotations

from dataclasses import dataclass

import av

# FFmpeg enum values (libavutil/pixfmt.h)
SPC_BT709 = 1
SPC_UNSPECIFIED = 2
SPC_BT470BG = 5
SPC_SMPTE170M = 6
SPC_SMPTE240M = 7
SPC_BT2020_NCL = 9
PRI_BT709 = 1
PRI_BT470BG = 5
PRI_SMPTE170M = 6
TRC_BT709 = 1
TRC_SMPTE170M = 6
RANGE_UNSPECIFIED = 0
RANGE_MPEG = 1
RANGE_JPEG = 2

_MATRIX_NAMES = {
    1: "bt709",
    4: "fcc",
    5: "bt470bg",
    6: "smpte170m",
    7: "smpte240m",
    9: "bt2020nc",
    10: "bt2020c",
}
_RANGE_NAMES = {RANGE_MPEG: "limited", RANGE_JPEG: "full"}
_PRIMARIES_NAMES = {
    1: "bt709",
    2: "unspecified",
    4: "bt470m",
    5: "bt470bg",
    6: "smpte170m",
    7: "smpte240m",
    9: "bt2020",
    12: "p3-d65",
}
_TRANSFER_NAMES = {
    1: "bt709",
    2: "unspecified",
    4: "gamma22",
    5: "gamma28",
    6: "smpte170m",
    7: "smpte240m",
    8: "linear",
    13: "srgb",
    14: "bt2020-10",
    15: "bt2020-12",
    16: "pq",
    18: "hlg",
}

# swscale knows these matrices; anything else is converted with BT.601 coefficients
_SWS_MATRIX = {
    1: av.video.reformatter.Colorspace.ITU709,
    4: av.video.reformatter.Colorspace.FCC,
    5: av.video.reformatter.Colorspace.ITU601,
    6: av.video.reformatter.Colorspace.ITU601,
    7: av.video.reformatter.Colorspace.SMPTE240M,
    9: av.video.reformatter.Colorspace.BT2020,
    10: av.video.reformatter.Colorspace.BT2020,
}


# for reading: bilinear scaling (only used on a size change), exact rounding, full chroma
# resolution. With these a YUV -> RGB -> YUV round trip keeps the mean level; swscale's default
# YUV -> RGB path is twice as fast but darkens by about one code value. RGB -> YUV is exact
# with the defaults, so the writer keeps them.
SWS_FLAGS = (
    av.video.reformatter.Interpolation.BILINEAR
    | av.video.reformatter.Interpolation.ACCURATE_RND
    | av.video.reformatter.Interpolation.FULL_CHR_H_INT
)


@dataclass(frozen=True)
class Colour:
    """How a stream's YUV maps to RGB, with the tags as FFmpeg enum values.

    ``matrix`` and ``range`` are always resolved (never unspecified); ``primaries`` and
    ``transfer`` are carried over as found, 2 meaning unspecified.
    """

    matrix: int
    range: int
    primaries: int = 2
    transfer: int = 2
    guessed: bool = False

    @property
    def sws_matrix(self) -> av.video.reformatter.Colorspace:
        return _SWS_MATRIX.get(self.matrix, av.video.reformatter.Colorspace.ITU601)

    def describe(self) -> str:
        text = (
            f"{_MATRIX_NAMES.get(self.matrix, str(self.matrix))}, {_RANGE_NAMES[self.range]} range"
        )
        if self.guessed:
            text += " (untagged, guessed)"
        primaries = _PRIMARIES_NAMES.get(self.primaries, str(self.primaries))
        transfer = _TRANSFER_NAMES.get(self.transfer, str(self.transfer))
        return f"{text}, primaries {primaries}, transfer {transfer}"


def resolve_colour(
    matrix: int, range_: int, primaries: int, transfer: int, height: int, pix_fmt: str | None
) -> Colour:
    """Fill in what the stream left unspecified, as players do."""
    guessed = False
    if matrix not in _SWS_MATRIX:
        matrix = SPC_BT709 if height >= 720 else SPC_SMPTE170M
        guessed = True
    if range_ not in (RANGE_MPEG, RANGE_JPEG):
        full = pix_fmt is not None and (pix_fmt.startswith("yuvj") or not pix_fmt.startswith("yuv"))
        range_ = RANGE_JPEG if full else RANGE_MPEG
        guessed = True
    return Colour(matrix, range_, primaries, transfer, guessed)


def output_colour(source: Colour) -> Colour:
    """The tags written on output: the source's matrix and primaries, always limited range.

    Limited range is what browsers and most players expect from H.264. When the source has no
    primaries or transfer tags, the ones that belong with its matrix are written, so the output
    is fully tagged.
    """
    primaries, transfer = source.primaries, source.transfer
    if primaries == 2:
        primaries = PRI_BT709 if source.matrix == SPC_BT709 else PRI_SMPTE170M
    if transfer == 2:
        transfer = TRC_BT709 if source.matrix == SPC_BT709 else TRC_SMPTE170M
    return Colour(source.matrix, RANGE_MPEG, primaries, transfer)
