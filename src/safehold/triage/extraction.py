"""One pass over an extraction (folder, zip or tar) into a path index.

Why: artifacts are found by looking names up in the index, never by walking the tree again
per artifact. Archives are unpacked member by member into a scratch directory that triage
owns (the evidence itself is only ever read), refusing members that would escape it
(absolute paths, ``..``, links pointing out), encrypted members, and members whose size or
compression ratio says zip bomb; each refusal is recorded with its reason.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from safehold.triage.records import NotProcessed


@dataclass(frozen=True)
class Limits:
    max_member_bytes: int = 8 << 30
    max_total_bytes: int = 64 << 30
    max_ratio: float = 200.0
    """Largest decompressed/compressed ratio accepted for one member."""


@dataclass(frozen=True)
class FileEntry:
    path: str
    """POSIX path relative to the extraction root."""
    local: Path
    """Where the bytes can be read: the evidence itself (folders) or triage's scratch copy."""
    size: int
    mtime: float


@dataclass
class Extraction:
    source: Path
    kind: str
    entries: dict[str, FileEntry] = field(default_factory=dict)
    not_processed: list[NotProcessed] = field(default_factory=list)
    _by_name: dict[str, list[str]] = field(default_factory=dict)

    def add(self, entry: FileEntry) -> None:
        self.entries[entry.path] = entry
        self._by_name.setdefault(PurePosixPath(entry.path).name.lower(), []).append(entry.path)

    def refuse(self, path: str, reason: str) -> None:
        self.not_processed.append(NotProcessed(path, reason))

    def named(self, name: str) -> list[FileEntry]:
        """Entries whose file name is ``name`` (case-insensitive), anywhere."""
        return [self.entries[p] for p in self._by_name.get(name.lower(), [])]

    def __iter__(self) -> Iterator[FileEntry]:
        return iter(self.entries.values())


def member_problem(name: str) -> str | None:
    """Why an archive member name may not be extracted, or None if it is safe."""
    if not name or "\x00" in name:
        return "empty or malformed member name"
    normalised = name.replace("\\", "/")
    if normalised.startswith("/") or (len(normalised) > 1 and normalised[1] == ":"):
        return "absolute path: refused (it would be written outside the extraction)"
    if ".." in PurePosixPath(normalised).parts:
        return "path traversal ('..'): refused (it would be written outside the extraction)"
    return None


def relative_name(name: str) -> str:
    parts = [p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("", ".", "/")]
    return "/".join(parts)


def read_folder(root: Path) -> Extraction:
    """Index a folder in one walk; links are not followed (those pointing out are refused)."""
    extraction = Extraction(source=root, kind="folder")
    resolved_root = root.resolve()
    for directory, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(directory)
        for name in [*filenames, *dirnames]:
            path = here / name
            rel = path.relative_to(root).as_posix()
            try:
                info = path.lstat()
            except OSError as error:
                extraction.refuse(rel, f"could not be read: {error.strerror or error}")
                continue
            if stat.S_ISLNK(info.st_mode):
                target = path.resolve()
                if not target.is_relative_to(resolved_root):
                    extraction.refuse(rel, "link points outside the extraction: not followed")
                else:
                    extraction.refuse(rel, "link inside the extraction: its target is read")
                continue
            if name in dirnames:
                continue
            if not stat.S_ISREG(info.st_mode):
                extraction.refuse(rel, "not a regular file (device, pipe or socket)")
                continue
            extraction.add(FileEntry(rel, path, info.st_size, info.st_mtime))
    return extraction
