"""Reading hash sets: Project VIC VICS JSON (1.x and 2.0), streamed, and simple CSV lists.

Why: national hash sets run to gigabytes, so VICS files are streamed with ijson and never
loaded whole. VICS writes some booleans as the strings "true"/"false"; they are read as
booleans. The raw ``Category`` code is kept and mapped through ``CategoryMap`` by the
data-model version and regional profile that the file's OData context names.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import ijson

from safehold.hashing.categories import CategoryMap, MappedCategory

_CONTEXT_KEYS = ("@odata.context", "odata.metadata")
_MODEL = re.compile(r"DataModels/(\d+(?:\.\d+)*)\.xml(?:/([^/$#]+))?", re.IGNORECASE)
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64, "pdq": 64}


class HashSetError(ValueError):
    """A hash-set file that cannot be read; the message names the file, record and fix."""


@dataclass(frozen=True)
class HashEntry:
    list_name: str
    record: str
    """Where in the file: the media id or the CSV line."""
    md5: str | None
    sha1: str | None
    sha256: str | None
    pdq: str | None
    category: MappedCategory
    precategorized: bool | None = None


@dataclass(frozen=True)
class VicsHeader:
    version: str
    region: str
    entity: str
    """What ``value`` holds: 'Media', or 'Cases' (each with a ``Media`` list)."""


def read_bool(value: object) -> bool | None:
    """VICS booleans: real JSON booleans or the strings "true"/"false" (any case)."""
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "1", "yes"}:
        return True
    if text in {"false", "0", "no", ""}:
        return False
    raise ValueError(f"{value!r} is not a boolean")


def _hash(value: object, algorithm: str, where: str) -> str | None:
    if value is None or value == "":
        return None
    text = str(value).strip().lower()
    if len(text) != _LENGTHS[algorithm] or not _HEX.match(text):
        raise HashSetError(
            f"{where}: {algorithm.upper()} {value!r} is not {_LENGTHS[algorithm]} hex digits; "
            "fix or remove that record"
        )
    return text


def read_vics_header(path: Path) -> VicsHeader:
    """Version, region and entity from the OData context, reading only as far as it."""
    with path.open("rb") as handle:
        try:
            for prefix, event, value in ijson.parse(handle):
                if prefix in _CONTEXT_KEYS and event == "string":
                    return _parse_context(path, str(value))
        except ijson.JSONError as error:
            raise HashSetError(f"{path}: not valid JSON ({error}); is it a VICS file?") from None
    raise HashSetError(
        f"{path}: no '@odata.context' (VICS 2.0) or 'odata.metadata' (VICS 1.x) key; "
        "is this a Project VIC VICS JSON file?"
    )


def _parse_context(path: Path, context: str) -> VicsHeader:
    found = _MODEL.search(context)
    if not found:
        raise HashSetError(f"{path}: cannot read the data-model version from {context!r}")
    version, region = found.group(1), found.group(2) or "Default"
    entity = context.rsplit("#", 1)[-1] if "#" in context else "Media"
    if entity not in {"Media", "Cases"}:
        raise HashSetError(f"{path}: VICS entity {entity!r} is not supported (Media or Cases)")
    return VicsHeader(version, region, entity)


def _field(item: dict[str, Any], name: str) -> Any:
    if name in item:
        return item[name]
    lowered = name.lower()
    for key, value in item.items():
        if key.lower() == lowered:
            return value
    return None


def _media_items(handle: BinaryIO, entity: str) -> Iterator[dict[str, Any]]:
    if entity == "Media":
        yield from ijson.items(handle, "value.item", use_float=True)
    else:
        yield from ijson.items(handle, "value.item.Media.item", use_float=True)


def read_vics(
    path: Path, *, list_name: str | None = None, categories: CategoryMap | None = None
) -> Iterator[HashEntry]:
    """Stream the media records of a VICS 1.x or 2.0 file."""
    header = read_vics_header(path)
    mapping = categories or CategoryMap.default()
    try:
        profile = mapping.profile_for(header.version, header.region)
    except ValueError as error:
        raise HashSetError(f"{path}: {error}") from None
    name = list_name or path.stem
    with path.open("rb") as handle:
        try:
            for number, item in enumerate(_media_items(handle, header.entity), start=1):
                where = f"{path}, media record {number} (MediaID {_field(item, 'MediaID')})"
                try:
                    precategorized = read_bool(_field(item, "IsPrecategorized"))
                except ValueError as error:
                    raise HashSetError(f"{where}: IsPrecategorized {error}") from None
                yield HashEntry(
                    list_name=name,
                    record=str(_field(item, "MediaID") or number),
                    md5=_hash(_field(item, "MD5"), "md5", where),
                    sha1=_hash(_field(item, "SHA1"), "sha1", where),
                    sha256=_hash(_field(item, "SHA256"), "sha256", where),
                    pdq=_hash(_field(item, "PDQ"), "pdq", where),
                    category=mapping.map(_field(item, "Category"), profile=profile),
                    precategorized=precategorized,
                )
        except ijson.JSONError as error:
            raise HashSetError(
                f"{path}: the JSON breaks off or is malformed ({error}); nothing from this "
                "file was used; fetch the file again"
            ) from None


def read_csv_hashes(
    path: Path,
    *,
    list_name: str | None = None,
    profile: str = "US",
    categories: CategoryMap | None = None,
) -> Iterator[HashEntry]:
    """A CSV with a header naming any of md5, sha1, sha256, pdq and optionally category."""
    mapping = categories or CategoryMap.default()
    if profile not in mapping.profiles:
        raise HashSetError(
            f"{path}: unknown category profile {profile!r}; choose one of {mapping.profiles}"
        )
    name = list_name or path.stem
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        columns = {c.strip().lower(): c for c in reader.fieldnames or []}
        if not set(columns) & set(_LENGTHS):
            raise HashSetError(
                f"{path}: the header must name at least one of md5, sha1, sha256, pdq "
                f"(found {list(columns)})"
            )
        for row in reader:
            where = f"{path}, line {reader.line_num}"
            values = {k: row.get(columns[k]) if k in columns else None for k in _LENGTHS}
            raw_category = row.get(columns["category"]) if "category" in columns else None
            yield HashEntry(
                list_name=name,
                record=f"line {reader.line_num}",
                md5=_hash(values["md5"], "md5", where),
                sha1=_hash(values["sha1"], "sha1", where),
                sha256=_hash(values["sha256"], "sha256", where),
                pdq=_hash(values["pdq"], "pdq", where),
                category=mapping.map(raw_category, profile=profile),
            )


def read_hash_set(
    path: Path, *, categories: CategoryMap | None = None, csv_profile: str = "US"
) -> Iterator[HashEntry]:
    """VICS JSON for ``.json`` files (the profile comes from the file), CSV otherwise (its
    category codes read in ``csv_profile``)."""
    if not path.is_file():
        raise HashSetError(f"{path}: no such hash-set file")
    if path.suffix.lower() == ".json":
        return read_vics(path, categories=categories)
    return read_csv_hashes(path, categories=categories, profile=csv_profile)
