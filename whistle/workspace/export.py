"""A case exported as one ZIP archive, for referral to counsel or an authority (docs/workspace.md).

The archive holds `case.html` (the case, readable in any browser, offline, without script),
`timeline.html` (the audit timeline in words), `README.txt` (what it is, when and by whom it was
exported) and `files/<name>` for each file. It is the case in the clear unless the guardian gives
a passphrase: then every entry is encrypted with AES-256 (WinZip AE-2), which 7-Zip, macOS's
archive tools and most others open.

In device mode the guardian's browser builds the same archive (whistle/static/js/export.js, with
zip.js): the rules for names and passphrases below have a twin there."""
from __future__ import annotations

import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

import pyzipper

# A shorter passphrase is refused: an archive that leaves the service is open to guessing offline.
MIN_PASSPHRASE_CHARS = 12
# A file's name in the archive: no longer than this (characters, before the extension is kept).
MAX_ENTRY_NAME_CHARS = 100
# Characters no common file system takes in a name (Windows is the strictest), and control characters.
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
# Names Windows keeps for devices, whatever the extension.
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


def safe_name(name: str) -> str:
    """One file's name made safe to unpack anywhere: no directories, no characters a file system
    refuses, no leading dot (a hidden file), no device name, not too long; never empty."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip(" .")
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    if len(extension) > 16:
        stem, dot, extension = name, "", ""
    if stem.lower() in _RESERVED:
        stem = f"_{stem}"
    stem = stem[:MAX_ENTRY_NAME_CHARS].rstrip(" .")
    return (stem or "file") + (f".{extension}" if dot and extension else "")


def safe_names(names: Iterable[str]) -> list[str]:
    """Each name made safe (safe_name) and unique, ignoring case (as Windows and macOS do): a
    second "minutes.pdf" becomes "minutes (2).pdf"."""
    taken: set[str] = set()
    chosen = []
    for name in names:
        name = safe_name(name)
        stem, dot, extension = name.rpartition(".")
        if not dot or not stem:
            stem, dot, extension = name, "", ""
        candidate, number = name, 1
        while candidate.lower() in taken:
            number += 1
            candidate = f"{stem} ({number}){dot}{extension}"
        taken.add(candidate.lower())
        chosen.append(candidate)
    return chosen


def archive_name(ref: str, day) -> str:
    """What the archive is saved as: "case-K7Q2-MX4P-2026-12-05.zip"."""
    return f"case-{ref}-{day.isoformat()}.zip"


def passphrase_errors(passphrase: str, again: str) -> dict[str, str]:
    """What is wrong with the passphrase fields, by field name; {} when there is no passphrase
    (an archive in the clear) or a good one given twice."""
    if not passphrase and not again:
        return {}
    if len(passphrase) < MIN_PASSPHRASE_CHARS:
        return {"passphrase": f"Use at least {MIN_PASSPHRASE_CHARS} characters, or leave both passphrase "
                              "fields empty for an archive that is not encrypted."}
    if again != passphrase:
        return {"passphrase_again": "This is not the same as the passphrase: type it again."}
    return {}


def readme_text(*, ref: str, exported_by: str, exported_at: str, encrypted: bool, files: int | None) -> str:
    """README.txt: what the archive is, when and by whom it was exported."""
    counted = "" if files is None else f" ({files})"
    protected = ("It is encrypted with the passphrase the guardian chose (AES-256): keep the passphrase apart "
                 "from the archive." if encrypted else
                 "It is NOT encrypted: anyone who has this file can read the case.")
    return (
        f"Case {ref}, exported from whistle, the organisation's speak-up service.\n\n"
        f"Exported by {exported_by} on {exported_at}. The export is recorded in the case's timeline.\n"
        f"{protected}\n\n"
        "What is inside:\n"
        "  case.html      the case: its details, what the reporter said, every message and note with who\n"
        "                 wrote it and when, the closing record, and the list of files. Open it in any web\n"
        "                 browser; it needs no network and prints well.\n"
        "  timeline.html  everything that happened to the case, in order, as the service recorded it.\n"
        f"  files/         the case's files{counted}, under the names listed in case.html.\n\n"
        "It may hold personal data about the reporter and others: keep it safe, share it only with those\n"
        "who need it, and delete it when it is no longer needed.\n"
    )


@dataclass
class Entry:
    """One file in the archive: its name, its content in pieces, and its size if known (a file
    of 2 GiB or more needs ZIP64 declared before its first byte)."""

    name: str
    chunks: Iterable[bytes]
    size: int | None = None


class ExportCut(Exception):
    """A file's content stopped short of its size (it failed to verify part-way): the archive is
    left unfinished, so nobody gets a silently shorter file."""


class _Pending:
    """Where the archive is written as it is built: the bytes since the last look."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> Iterator[bytes]:
        parts, self._parts = self._parts, []
        joined = b"".join(parts)
        if joined:
            yield joined


def stream_zip(entries: Iterable[Entry], *, when: datetime, passphrase: str | None = None) -> Iterator[bytes]:
    """The ZIP archive of `entries`, piece by piece as it is built (never whole in memory, never
    on disk): deflated; with a passphrase, every entry AES-256 encrypted (WinZip AE-2)."""
    out = _Pending()
    archive = pyzipper.AESZipFile(out, "w", compression=zipfile.ZIP_DEFLATED)
    if passphrase:
        archive.setpassword(passphrase.encode("utf-8"))
        archive.setencryption(pyzipper.WZ_AES, nbits=256)
    stamp = (when.year, when.month, when.day, when.hour, when.minute, when.second)
    for entry in entries:
        info = pyzipper.zipfile_aes.AESZipInfo(entry.name, stamp)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o600 << 16
        if entry.size is not None:
            info.file_size = entry.size
        written = 0
        with archive.open(info, "w", force_zip64=entry.size is None) as target:
            for chunk in entry.chunks:
                target.write(chunk)
                written += len(chunk)
                yield from out.take()
        if entry.size is not None and written != entry.size:
            raise ExportCut(entry.name)
        yield from out.take()
    archive.close()
    yield from out.take()
