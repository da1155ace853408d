"""The wall time an experiment directory has cost, over every process that worked on it (wall_seconds.json).

An experiment on 2 CPU cores often outlives the session that started it: the process is killed, and a later one
resumes the runs it left. Each process adds its own wall time to the directory's count, and writes the count as it
goes (every `every` seconds), so a process killed without warning loses at most that much of it.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

FILE = "wall_seconds.json"


def read_wall_seconds(out_dir: Path) -> float | None:
    """The directory's wall time so far; None when there is none, or the file is damaged (its count is lost, nothing
    else)."""
    try:
        value = json.loads((out_dir / FILE).read_text()).get("wall_seconds")
        return float(value) if value is not None else None
    except (OSError, ValueError, AttributeError, TypeError, UnicodeDecodeError):
        return None


class WallClock:
    """`with WallClock(out_dir):` adds the block's wall time to the directory's count, written every `every` seconds
    while the block runs and once more when it ends, however it ends."""

    def __init__(self, out_dir: Path, every: float = 60.0):
        self.out_dir, self.every = Path(out_dir), every
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def __enter__(self) -> WallClock:
        self._before = read_wall_seconds(self.out_dir) or 0.0
        self._started = time.perf_counter()
        self._thread = threading.Thread(target=self._tick, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._write()

    def _tick(self) -> None:
        while not self._stop.wait(self.every):
            self._write()

    def _write(self) -> None:
        if not self.out_dir.is_dir():  # nothing ran (yet)
            return
        with self._lock:  # atomic: a kill mid-write leaves the last whole count
            tmp = (self.out_dir / FILE).with_suffix(".tmp")
            tmp.write_text(json.dumps({"wall_seconds": self._before + time.perf_counter() - self._started}))
            tmp.replace(self.out_dir / FILE)
