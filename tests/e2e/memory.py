"""Reading a live process's memory (/proc/PID/mem) for markers: what a passive compromise of the
server at that moment could find. The test process starts the server, so as its parent it may read
the child's memory under the usual Yama ptrace rules (ptrace_scope 0 or 1)."""
from __future__ import annotations

import re
from pathlib import Path

# Readable, private or shared mappings; skip the kernel's [vvar]/[vsyscall] pages, which cannot be read.
_MAPPING = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (r[-w][-x][ps]) \S+ \S+ \S+\s*(.*)$")
_UNREADABLE = ("[vvar]", "[vsyscall]", "[vvar_vclock]")
_WINDOW = 1 << 24  # read in 16 MiB slices so the scan itself stays small


def encodings(marker: str) -> list[bytes]:
    """The forms a text marker takes in a Python or C process: UTF-8, and the UTF-16 and UTF-32 that
    CPython uses for strings with characters beyond Latin-1 (UCS-2/UCS-4)."""
    return [marker.encode("utf-8"), marker.encode("utf-16-le"), marker.encode("utf-32-le")]


def regions(pid: int) -> list[tuple[int, int, str]]:
    found = []
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        match = _MAPPING.match(line)
        if match and match.group(4).strip() not in _UNREADABLE:
            found.append((int(match.group(1), 16), int(match.group(2), 16), match.group(4).strip()))
    return found


def scan(pid: int, needles: list[bytes]) -> list[tuple[bytes, str]]:
    """Each needle found in the readable memory of process `pid`, with the mapping it was in. Reads
    overlap by the longest needle so one straddling two slices is found too."""
    overlap = max(len(needle) for needle in needles) - 1
    hits: list[tuple[bytes, str]] = []
    scanned = 0
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as memory:
        for start, end, name in regions(pid):
            position, tail = start, b""
            while position < end:
                size = min(_WINDOW, end - position)
                try:
                    memory.seek(position)
                    chunk = memory.read(size)
                except (OSError, ValueError, OverflowError):
                    break  # a mapping that went away or cannot be read (guard pages)
                scanned += len(chunk)
                window = tail + chunk
                hits += [(needle, name) for needle in needles if needle in window and (needle, name) not in hits]
                tail = window[-overlap:] if overlap else b""
                position += size
    if scanned == 0:
        raise RuntimeError(f"could not read any memory of process {pid}")
    return hits


def process_holds(pid: int, marker: str) -> list[tuple[bytes, str]]:
    """Where, if anywhere, the memory of process `pid` holds `marker` in any of its encodings."""
    return scan(pid, encodings(marker))
