"""Errors that reach the user as one line: what went wrong, and with which file."""

from __future__ import annotations

import os


class VidganError(Exception):
    """A failure the user can act on; the CLI prints it as one line, without a traceback."""

    def __init__(self, message: str, path: str | os.PathLike[str] | None = None) -> None:
        self.path = None if path is None else os.fspath(path)
        self.message = message
        super().__init__(f"{self.path}: {message}" if self.path else message)


class InputError(VidganError):
    """The input cannot be read as a video: missing, empty, damaged, or without a video stream."""


class OutputError(VidganError):
    """The output cannot be written: existing file, unwritable folder, refused codec."""
