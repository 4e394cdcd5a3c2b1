#!/usr/bin/env python3
"""The data path of masked `vault run`, without any masking, three ways.

    pipe_floor.py MODE SRC DST

cat SRC writes into a 1 MiB pipe (as the bot does under `vault run`); this process moves the
bytes to DST:
  rw      read 1 MiB into memory, write it out (what vault's pump does, minus the scan)
  tee     tee the pipe into a second one, read that copy (where a scan would look), then
          splice the original pipe into DST (no user-space copy on the way out)
  splice  splice the pipe straight into DST (no copy into memory at all: nothing could scan)
If tee or splice were much faster than rw, a splice-based pump would be worth building.
"""
import ctypes
import fcntl
import os
import subprocess
import sys

F_SETPIPE_SZ = 1031
CHUNK = 1 << 20


def main():
    mode, src, dst = sys.argv[1:4]
    r, w = os.pipe()
    fcntl.fcntl(w, F_SETPIPE_SZ, CHUNK)
    cat = subprocess.Popen(["cat", src], stdout=w)
    os.close(w)
    out = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    buf = bytearray(CHUNK)
    if mode == "rw":
        while True:
            n = os.readv(r, [buf])
            if n == 0:
                break
            view = memoryview(buf)[:n]
            while view:
                view = view[os.write(out, view):]
    elif mode == "tee":
        libc = ctypes.CDLL(None, use_errno=True)
        sr, sw = os.pipe()
        fcntl.fcntl(sw, F_SETPIPE_SZ, CHUNK)
        while True:
            n = libc.tee(r, sw, ctypes.c_size_t(CHUNK), 0)
            if n <= 0:
                break
            got = 0
            while got < n:
                got += os.readv(sr, [memoryview(buf)[got:n]])
            left = n
            while left:
                left -= os.splice(r, out, left)
    elif mode == "splice":
        while os.splice(r, out, CHUNK):
            pass
    else:
        sys.exit(f"unknown mode {mode!r}: use rw, tee or splice")
    cat.wait()


if __name__ == "__main__":
    main()
