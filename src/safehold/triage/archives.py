"""Zip and tar extractions, unpacked member by member with the safety checks applied.

Why: a seized phone's extraction often arrives as one archive; a hostile or damaged one
must not write outside triage's scratch directory, fill the disk or stop the run. The
decompressed size is counted while copying (headers can lie), so a bomb is stopped at the
cap whatever its header says.
"""

from __future__ import annotations

import posixpath
import tarfile
import zipfile
from pathlib import Path
from typing import IO

from safehold.triage.disk_images import looks_like_disk_image, read_disk_image
from safehold.triage.extraction import (
    Extraction,
    FileEntry,
    Limits,
    member_problem,
    read_folder,
    relative_name,
)

_COPY_CHUNK = 1 << 20


class _TooLargeError(Exception):
    pass


def _copy_capped(source: IO[bytes], target: Path, cap: int) -> int:
    written = 0
    with target.open("wb") as out:
        while chunk := source.read(_COPY_CHUNK):
            written += len(chunk)
            if written > cap:
                raise _TooLargeError
            out.write(chunk)
    return written


def open_extraction(source: Path, scratch: Path, limits: Limits | None = None) -> Extraction:
    """Index ``source`` (a folder, .zip, .tar/.tar.gz/.tgz, or an E01/raw disk image);
    archives and images unpack into ``scratch``, which must be a directory triage owns."""
    limits = limits or Limits()
    if source.is_dir():
        return read_folder(source)
    if not source.is_file():
        raise FileNotFoundError(f"{source}: no such extraction (give a folder, zip or tar)")
    if zipfile.is_zipfile(source):
        return read_zip(source, scratch, limits)
    if tarfile.is_tarfile(source):
        return read_tar(source, scratch, limits)
    if looks_like_disk_image(source):
        return read_disk_image(source, scratch, limits)
    extraction = Extraction(source=source, kind="unknown")
    name = source.name.lower()
    if name.endswith(".zip"):
        reason = "not a readable zip (truncated or damaged: the central directory is missing)"
    else:
        reason = "not a folder, zip or tar extraction"
    extraction.refuse(source.name, reason)
    return extraction


def read_zip(source: Path, scratch: Path, limits: Limits) -> Extraction:
    extraction = Extraction(source=source, kind="zip")
    total = 0
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as error:
        extraction.refuse(source.name, f"not a readable zip ({error})")
        return extraction
    with archive:
        for info in archive.infolist():
            name = info.filename
            if info.is_dir():
                continue
            problem = member_problem(name)
            mode = info.external_attr >> 16
            if problem is None and (mode & 0o170000) == 0o120000:
                problem = "symbolic link member: refused (links may point outside)"
            if problem is None and info.flag_bits & 0x1:
                problem = "encrypted member: cannot be read without its key"
            if problem is None and info.file_size > limits.max_member_bytes:
                problem = f"member declares {info.file_size} bytes, over the per-file cap"
            ratio = info.file_size / max(info.compress_size, 1)
            if problem is None and info.file_size > 1 << 20 and ratio > limits.max_ratio:
                problem = f"compression ratio {ratio:.0f}:1 looks like a zip bomb: refused"
            if problem:
                extraction.refuse(name, problem)
                continue
            rel = relative_name(name)
            target = scratch / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            cap = min(limits.max_member_bytes, limits.max_total_bytes - total)
            try:
                with archive.open(info) as member:
                    size = _copy_capped(member, target, cap)
            except _TooLargeError:
                target.unlink(missing_ok=True)
                extraction.refuse(name, "decompressed size passed the cap: refused (zip bomb?)")
                continue
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as error:
                target.unlink(missing_ok=True)
                extraction.refuse(name, f"member could not be read (truncated or damaged: {error})")
                continue
            total += size
            mtime = _zip_mtime(info)
            extraction.add(FileEntry(rel, target, size, mtime))
    return extraction


def _zip_mtime(info: zipfile.ZipInfo) -> float:
    import datetime as dt

    try:
        return dt.datetime(*info.date_time, tzinfo=dt.UTC).timestamp()
    except ValueError:
        return 0.0


def read_tar(source: Path, scratch: Path, limits: Limits) -> Extraction:
    extraction = Extraction(source=source, kind="tar")
    total = 0
    try:
        archive = tarfile.open(source, mode="r:*")  # noqa: SIM115 - closed below
    except (tarfile.TarError, OSError) as error:
        extraction.refuse(source.name, f"not a readable tar ({error})")
        return extraction
    try:
        for member in archive:
            problem = member_problem(member.name)
            if problem is None and (member.issym() or member.islnk()):
                problem = _link_problem(member)
            if problem is None and member.isdir():
                continue
            if problem is None and not member.isfile():
                problem = "not a regular file (device or pipe): skipped"
            if problem is None and member.size > limits.max_member_bytes:
                problem = f"member declares {member.size} bytes, over the per-file cap"
            if problem:
                extraction.refuse(member.name, problem)
                continue
            rel = relative_name(member.name)
            target = scratch / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            handle = archive.extractfile(member)
            if handle is None:
                extraction.refuse(member.name, "member has no data")
                continue
            try:
                with handle:
                    size = _copy_capped(
                        handle, target, min(limits.max_member_bytes, limits.max_total_bytes - total)
                    )
            except _TooLargeError:
                target.unlink(missing_ok=True)
                extraction.refuse(member.name, "decompressed size passed the cap: refused")
                continue
            except (tarfile.TarError, OSError, EOFError):
                target.unlink(missing_ok=True)
                raise
            total += size
            extraction.add(FileEntry(rel, target, size, float(member.mtime)))
    except (tarfile.TarError, OSError, EOFError) as error:
        extraction.refuse(
            source.name,
            f"archive breaks off (truncated or damaged: {error}); the members before it are used",
        )
    finally:
        archive.close()
    return extraction


def _link_problem(member: tarfile.TarInfo) -> str:
    target = member.linkname.replace("\\", "/")
    base = "" if member.islnk() else posixpath.dirname(member.name)
    joined = posixpath.normpath(posixpath.join(base, target))
    if target.startswith("/") or joined == ".." or joined.startswith("../"):
        return "link points outside the extraction: refused"
    return "link inside the extraction: not followed (its target is read itself)"
