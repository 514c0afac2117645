"""Which FFmpeg options an opened input left unused, so that a mistyped one is reported.

FFmpeg hands the options given when opening an input to the demuxer, the protocols and the
decoder, each of which takes the names it knows and leaves the rest; an unknown name is
silently ignored. PyAV does not show what was left, so the names are looked up in FFmpeg's own
option tables (``av_opt_find``, through ctypes, in the libraries PyAV loaded): an option counts
as taken when the demuxer that opened the input, FFmpeg's generic input options, any protocol
(protocols open one another: rtsp opens udp, https opens tls) or the video decoder has it.

>>> unused_options(["rtsp_transport", "nosuchoption"], "mpegts", stream.codec_context)
['rtsp_transport', 'nosuchoption']
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import glob
import logging
import os
from collections.abc import Iterable

import av

log = logging.getLogger(__name__)

_SEARCH_CHILDREN = 1  # AV_OPT_SEARCH_CHILDREN
_SEARCH_FAKE_OBJ = 2  # AV_OPT_SEARCH_FAKE_OBJ: the object is a pointer to an AVClass
_PRIV_CLASS = 5  # AVInputFormat starts name, long_name, flags, extensions, codec_tag, priv_class


class _Tables:
    """FFmpeg's option tables: the generic input options, the I/O and protocol options, and
    each demuxer's own."""

    def __init__(self, avformat: ctypes.CDLL, avutil: ctypes.CDLL) -> None:
        avformat.avformat_get_class.restype = ctypes.c_void_p
        avformat.av_find_input_format.restype = ctypes.c_void_p
        avformat.av_find_input_format.argtypes = [ctypes.c_char_p]
        avutil.av_opt_find.restype = ctypes.c_void_p
        avutil.av_opt_find.argtypes = [
            ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_int,
        ]  # fmt: skip
        avutil.av_opt_child_class_iterate.restype = ctypes.c_void_p
        avutil.av_opt_child_class_iterate.argtypes = [
            ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p),
        ]  # fmt: skip
        self._avformat = avformat
        self._avutil = avutil
        self.generic: int = avformat.avformat_get_class()
        # the I/O context's class, whose children are the URL context and every protocol
        self.io = next((c for c in self._children(self.generic) if _name(c) == "AVIOContext"), 0)
        if not self.io:
            raise OSError("FFmpeg's AVIOContext options were not found")

    def _children(self, cls: int) -> Iterable[int]:
        state = ctypes.c_void_p()
        while child := self._avutil.av_opt_child_class_iterate(cls, ctypes.byref(state)):
            yield child

    def demuxer(self, name: str) -> int:
        """The demuxer's own option class (0 when it has none)."""
        demuxer = self._avformat.av_find_input_format(name.encode())
        if not demuxer:
            return 0
        return ctypes.cast(demuxer, ctypes.POINTER(ctypes.c_void_p))[_PRIV_CLASS] or 0

    def knows(self, cls: int, name: str, *, children: bool = False) -> bool:
        if not cls:
            return False
        fake = ctypes.c_void_p(cls)
        flags = _SEARCH_FAKE_OBJ | (_SEARCH_CHILDREN if children else 0)
        return bool(self._avutil.av_opt_find(ctypes.byref(fake), name.encode(), None, 0, flags))


def _name(cls: int) -> str:
    """An AVClass's class_name, its first field."""
    raw = ctypes.cast(cls, ctypes.POINTER(ctypes.c_char_p))[0]
    return raw.decode() if raw else ""


def _library(name: str) -> ctypes.CDLL:
    """FFmpeg's lib``name`` as the PyAV wheel ships it (av.libs, av/.dylibs), else the system's."""
    here = os.path.dirname(av.__file__)
    for folder in (os.path.join(here, os.pardir, "av.libs"), os.path.join(here, ".dylibs")):
        paths = sorted(glob.glob(os.path.join(folder, f"*{name}*")))
        if paths:
            return ctypes.CDLL(paths[0])
    found = ctypes.util.find_library(name)
    if found is None:
        raise OSError(f"lib{name} not found")
    return ctypes.CDLL(found)


@functools.cache
def _tables() -> _Tables | None:
    try:
        return _Tables(_library("avformat"), _library("avutil"))
    except (OSError, AttributeError) as e:
        log.debug("cannot read FFmpeg's option tables (%s); input options go unchecked", e)
        return None


def unused_options(
    names: Iterable[str], demuxer: str, decoder: av.CodecContext | None
) -> list[str] | None:
    """The names among ``names`` that neither the ``demuxer`` (its FFmpeg name), FFmpeg's
    generic input options, any protocol nor the ``decoder`` has, in their order; None where
    FFmpeg's option tables cannot be read."""
    tables = _tables()
    if tables is None:
        return None
    own = tables.demuxer(demuxer)
    decoder_options: set[str] = set()
    if decoder is not None:
        known = decoder.supported_options
        decoder_options = {o.name for o in (*known.generic, *known.private)}
    return [
        name
        for name in names
        if not (
            name in decoder_options
            or tables.knows(tables.generic, name)
            or tables.knows(own, name)
            or tables.knows(tables.io, name, children=True)
        )
    ]
