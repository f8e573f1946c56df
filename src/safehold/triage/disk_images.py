"""E01 and raw disk images through dfvfs (the optional ``disk`` extra).

Why: many forces image a device or card to EWF (E01) first; dfvfs finds the partitions and
file systems inside and reads them without mounting anything. Each file is copied out, with
the same caps as archives, into triage's scratch directory, so the image itself is only
read; links are not followed; an encrypted volume or a damaged image is listed in
``not_processed`` with its reason instead of stopping triage.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from safehold.triage.extraction import Extraction, FileEntry, Limits, relative_name

EWF_SIGNATURE = b"EVF\x09\x0d\x0a\xff\x00"
DISK_IMAGE_SUFFIXES = (".e01", ".ex01", ".dd", ".raw", ".img", ".001")
_CHUNK = 1 << 20


def looks_like_disk_image(source: Path) -> bool:
    if source.name.lower().endswith(DISK_IMAGE_SUFFIXES):
        return True
    with source.open("rb") as handle:
        return handle.read(len(EWF_SIGNATURE)) == EWF_SIGNATURE


def _copy_out(file_object: Any, target: Path, cap: int) -> int | None:
    """Copy a dfvfs file object to ``target``; None if it passes ``cap`` (removed)."""
    written = 0
    with target.open("wb") as out:
        while chunk := file_object.read(_CHUNK):
            written += len(chunk)
            if written > cap:
                break
            out.write(chunk)
    if written > cap:
        target.unlink(missing_ok=True)
        return None
    return written


def read_disk_image(source: Path, scratch: Path, limits: Limits) -> Extraction:
    extraction = Extraction(source=source, kind="disk_image")
    try:
        from dfvfs.helpers import volume_scanner
        from dfvfs.resolver import resolver
    except ImportError:
        extraction.refuse(
            source.name,
            "disk images (E01, raw) need the disk extra: pip install 'safehold[disk]'",
        )
        return extraction
    options = volume_scanner.VolumeScannerOptions()
    options.partitions, options.volumes, options.snapshots = ["all"], ["all"], ["none"]
    try:
        specs = volume_scanner.VolumeScanner().GetBasePathSpecs(str(source), options=options)
    except Exception as error:  # dfvfs raises many kinds; the reason is what matters
        extraction.refuse(
            source.name, f"disk image could not be read ({error}); encrypted or damaged?"
        )
        return extraction
    if not specs:
        extraction.refuse(source.name, "no file system found in the disk image")
        return extraction
    total = 0
    for number, spec in enumerate(specs):
        prefix = f"fs{number}/" if len(specs) > 1 else ""
        try:
            file_system = resolver.Resolver.OpenFileSystem(spec)
            stack = [file_system.GetRootFileEntry()]
        except Exception as error:
            extraction.refuse(
                f"{source.name}:{prefix}", f"file system could not be opened ({error})"
            )
            continue
        while stack:
            directory = stack.pop()
            for entry in directory.sub_file_entries:
                rel = prefix + relative_name(entry.path_spec.location or entry.name)
                if entry.IsDirectory():
                    stack.append(entry)
                elif entry.IsLink():
                    extraction.refuse(rel, "link in the disk image: not followed")
                elif not entry.IsFile():
                    extraction.refuse(rel, "not a regular file (device, pipe or socket)")
                else:
                    total += _extract(extraction, entry, rel, scratch, limits, total)
    return extraction


def _extract(
    extraction: Extraction, entry: Any, rel: str, scratch: Path, limits: Limits, total: int
) -> int:
    target = scratch / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    cap = min(limits.max_member_bytes, limits.max_total_bytes - total)
    try:
        file_object = entry.GetFileObject()
        size = _copy_out(file_object, target, cap)
    except Exception as error:
        target.unlink(missing_ok=True)
        extraction.refuse(rel, f"could not be read from the disk image ({error})")
        return 0
    if size is None:
        extraction.refuse(rel, "size passed the per-file or total cap: refused")
        return 0
    mtime = entry.modification_time
    posix = mtime.CopyToPosixTimestamp() if mtime is not None else None
    extraction.add(FileEntry(rel, target, size, float(posix or 0)))
    return size
