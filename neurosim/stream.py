"""Recordings streamed to disk: rows appended to a ``.npy`` file that is valid after each.

A state monitor made with ``net.state_monitor(pop, var, to="v.npy")`` writes each run
chunk's samples to the end of the file and then rewrites the fixed-size header with the
new number of rows, so that at every moment -- after a Ctrl-C, a crash or a killed job --
the file is an ordinary ``.npy`` holding every finished chunk (``numpy.load(path,
mmap_mode="r")`` reads it without loading it). The monitor's ``values`` is then a
read-only memory map of the file, not an array in memory.

The header is always :data:`HEADER_BYTES` long (NumPy format 1.0, padded with spaces), so
rewriting it never moves the data.
"""

import os
import struct

import numpy as np

from .validation import fail

__all__ = ["NpyStream", "HEADER_BYTES"]

#: Size of the file's header (magic, version, length and the padded dict), in bytes.
HEADER_BYTES = 128


class NpyStream:
    """A 2-D ``.npy`` file of ``cols`` columns that grows by rows. Nothing is written before
    the first rows come (a network built again to restore a checkpoint does not touch the
    file the checkpoint refers to); the first rows after a reset start the file anew."""

    def __init__(self, path, cols, dtype, name="to"):
        path = os.fspath(path)
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            fail(name, "a file path in an existing folder", path, f"no folder {folder!r}")
        if os.path.isdir(path):
            fail(name, "a file path, not a folder", path)
        if not os.access(folder, os.W_OK) or (os.path.exists(path)
                                               and not os.access(path, os.W_OK)):
            fail(name, "a file that can be written", path)
        self.path = path
        self.cols = int(cols)
        self.dtype = np.dtype(dtype)
        self.rows = 0

    def _header(self):
        text = "{'descr': %r, 'fortran_order': False, 'shape': (%d, %d), }" % (
            self.dtype.str, self.rows, self.cols)
        body = text.ljust(HEADER_BYTES - 10 - 1) + "\n"
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(body)) + body.encode("latin1")

    def append(self, block):
        """Add the rows of ``block`` (rows, cols); the header follows them."""
        block = np.asarray(block)
        if not block.shape[0]:
            return
        if self.rows == 0:                 # a new recording: the file starts anew
            self.dtype = block.dtype
            with open(self.path, "wb") as f:
                f.write(self._header())
        data = np.ascontiguousarray(block, dtype=self.dtype)
        with open(self.path, "r+b") as f:
            f.seek(HEADER_BYTES + self.rows * self.cols * self.dtype.itemsize)
            f.write(data.tobytes())
            f.truncate()
            self.rows += data.shape[0]
            f.seek(0)
            f.write(self._header())

    def clear(self):
        """Forget the rows (a reset); the file is started anew by the next rows."""
        self.rows = 0

    def resume(self, rows, dtype):
        """Continue after the first ``rows`` rows of the file (a restored checkpoint);
        refused (ValueError) when the file does not hold them."""
        rows, dtype = int(rows), np.dtype(dtype)
        if rows == 0:
            self.rows = 0
            return
        try:
            with open(self.path, "rb") as f:
                version = np.lib.format.read_magic(f)
                shape, fortran, have = np.lib.format.read_array_header_1_0(f)
                ok = (version == (1, 0) and f.tell() == HEADER_BYTES and not fortran
                      and len(shape) == 2 and shape[1] == self.cols and have == dtype
                      and shape[0] >= rows)
        except (OSError, ValueError) as e:
            raise ValueError(f"{self.path}: not a recording this monitor wrote ({e})") from None
        if not ok:
            raise ValueError(f"{self.path} does not hold the {rows} rows of {self.cols} "
                             f"{dtype} samples the checkpoint refers to")
        self.rows, self.dtype = rows, dtype
        with open(self.path, "r+b") as f:
            f.truncate(HEADER_BYTES + rows * self.cols * dtype.itemsize)
            f.write(self._header())

    def array(self):
        """The rows so far, a read-only memory map of the file (an empty array: none)."""
        if not self.rows:
            return np.zeros((0, self.cols), self.dtype)
        return np.memmap(self.path, self.dtype, "r", offset=HEADER_BYTES,
                         shape=(self.rows, self.cols))
