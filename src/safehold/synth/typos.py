"""Realistic variation in the identifiers different organisations hold for one person.

Linkage is only worth testing against records that disagree the way real ones do: typing
slips, nicknames, double-barrelled or dropped family names, day/month swaps, old email
addresses and phone numbers written several ways. Every function returns the varied values
and, row by row, what was changed ("none" when nothing was), so the study can be scored.

Only rows chosen for a change are touched in Python; the choice itself is vectorised.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from safehold.synth.names import EMAIL_DOMAINS, FAMILY

NONE = "none"
TYPO_KINDS: tuple[str, ...] = ("substitution", "transposition", "deletion", "insertion", "doubled")
GIVEN_KINDS: tuple[str, ...] = (*TYPO_KINDS, "nickname")
FAMILY_CHANGE_KINDS: tuple[str, ...] = (
    "double_barrelled",
    "hyphen_dropped",
    "part_dropped",
    "married_name",
)
FAMILY_KINDS: tuple[str, ...] = (*TYPO_KINDS, *FAMILY_CHANGE_KINDS)
DOB_KINDS: tuple[str, ...] = ("day_month_swap", "off_by_one_day", "year_digit")
EMAIL_KINDS: tuple[str, ...] = ("missing", "old_address", "other_domain", "dots")
PHONE_KINDS: tuple[str, ...] = (
    "missing",
    "old_number",
    "national_spaced",
    "international_spaced",
    "bracketed",
)
PHONE_FORMATS: tuple[str, ...] = PHONE_KINDS[2:]

# Ofcom's range reserved for drama (07700 900000-900999): an old number that can be no one's.
FICTIONAL_MOBILE_PREFIX = "+447700900"

_ROWS = "qwertyuiop", "asdfghjkl", "zxcvbnm"
_OFFSET = (0.0, 0.3, 0.8)  # how far each keyboard row sits to the right


def _keyboard_neighbours() -> dict[str, str]:
    where = {ch: (r, c + _OFFSET[r]) for r, row in enumerate(_ROWS) for c, ch in enumerate(row)}
    return {
        ch: "".join(
            o
            for o, (r2, x2) in where.items()
            if o != ch and abs(r2 - r) <= 1 and abs(x2 - x) <= 1.01
        )
        for ch, (r, x) in where.items()
    }


KEYBOARD_NEIGHBOURS: dict[str, str] = _keyboard_neighbours()

# Common English short forms: a short, generic list, nothing tied to anyone.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "william": ("bill", "will", "billy"),
    "robert": ("bob", "rob", "bobby"),
    "richard": ("rich", "richie"),
    "michael": ("mike", "mick"),
    "christopher": ("chris",),
    "jonathan": ("jon", "jonny"),
    "alexander": ("alex", "sandy"),
    "matthew": ("matt",),
    "benjamin": ("ben",),
    "samuel": ("sam",),
    "daniel": ("dan", "danny"),
    "edward": ("ed", "ted", "eddie"),
    "thomas": ("tom", "tommy"),
    "james": ("jim", "jamie"),
    "andrew": ("andy", "drew"),
    "anthony": ("tony",),
    "stephen": ("steve",),
    "david": ("dave",),
    "peter": ("pete",),
    "joshua": ("josh",),
    "theodore": ("theo", "ted"),
    "katherine": ("kate", "kathy", "katie"),
    "elizabeth": ("liz", "beth", "lizzie"),
    "margaret": ("maggie", "peggy", "meg"),
    "rebecca": ("becky", "becca"),
    "susan": ("sue", "susie"),
    "jessica": ("jess",),
    "isabella": ("bella", "izzy"),
    "charlotte": ("lottie", "charlie"),
    "florence": ("flo",),
    "matilda": ("tilly",),
    "nicola": ("nicky",),
    "joanne": ("jo",),
    "sophia": ("sophie",),
    "hannah": ("han",),
}


class Varied(NamedTuple):
    """Varied values (``None`` where a value is missing) and, per row, the change applied."""

    values: npt.NDArray[Any]
    change: npt.NDArray[np.str_]


def _as_objects(values: Sequence[str | None] | npt.NDArray[Any]) -> npt.NDArray[np.object_]:
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def _rate(rate: float | npt.NDArray[np.float64], n: int) -> npt.NDArray[np.float64]:
    return np.broadcast_to(np.asarray(rate, dtype=np.float64), (n,))


def _typo_one(name: str, kind: int, u_pos: float, u_char: float) -> tuple[str, int]:
    """One keyboard slip in ``name``; returns the new name and the kind actually applied
    (a kind that cannot apply, such as transposing "ll", falls back to another)."""
    letters = [i for i, ch in enumerate(name) if ch.lower() in KEYBOARD_NEIGHBOURS]
    if not letters:
        return name + name[-1:], 4
    if kind == 1:  # transposition of two different adjacent letters
        pairs = [
            i
            for i in letters
            if i + 1 < len(name) and name[i + 1].isalpha() and name[i] != name[i + 1]
        ]
        if pairs:
            i = pairs[int(u_pos * len(pairs))]
            return name[:i] + name[i + 1] + name[i] + name[i + 2 :], 1
        kind = 0
    if kind == 2 and len(letters) < 3:
        kind = 3
    i = letters[int(u_pos * len(letters))]
    near = KEYBOARD_NEIGHBOURS[name[i].lower()]
    other = near[int(u_char * len(near))]
    if name[i].isupper():
        other = other.upper()
    if kind == 0:
        return name[:i] + other + name[i + 1 :], 0
    if kind == 2:
        return name[:i] + name[i + 1 :], 2
    if kind == 3:
        return name[: i + 1] + other + name[i + 1 :], 3
    return name[: i + 1] + name[i] + name[i + 1 :], 4


def typo_names(
    rng: np.random.Generator,
    names: Sequence[str] | npt.NDArray[Any],
    *,
    rate: float | npt.NDArray[np.float64],
) -> Varied:
    """One keyboard slip (adjacent-key substitution, transposition, deletion, insertion of an
    adjacent key, doubled letter) in each name with probability ``rate``."""
    values = _as_objects(names)
    n = values.size
    chosen = (rng.random(n) < _rate(rate, n)) & np.array(
        [isinstance(v, str) and v != "" for v in values], dtype=bool
    )
    change = np.full(n, NONE, dtype=object)
    idx = np.flatnonzero(chosen)
    kinds = rng.choice(len(TYPO_KINDS), size=idx.size, p=[0.35, 0.2, 0.2, 0.15, 0.1])
    u = rng.random((idx.size, 2))
    for j, i in enumerate(idx):
        values[i], applied = _typo_one(values[i], int(kinds[j]), float(u[j, 0]), float(u[j, 1]))
        change[i] = TYPO_KINDS[applied]
    return Varied(values, change.astype(str))


def vary_given_names(
    rng: np.random.Generator,
    names: Sequence[str] | npt.NDArray[Any],
    *,
    rate: float | npt.NDArray[np.float64],
    nickname_share: float = 0.5,
) -> Varied:
    """With probability ``rate`` a name is varied: to a short form (``nickname_share`` of the
    time, when the name has one) or by a typing slip."""
    values = _as_objects(names)
    n = values.size
    chosen = rng.random(n) < _rate(rate, n)
    has_short = np.array(
        [isinstance(v, str) and v.lower() in NICKNAMES for v in values], dtype=bool
    )
    nick = chosen & has_short & (rng.random(n) < nickname_share)
    pick = rng.random(n)
    change = np.full(n, NONE, dtype=object)
    for i in np.flatnonzero(nick):
        forms = NICKNAMES[values[i].lower()]
        values[i] = forms[int(pick[i] * len(forms))]
        change[i] = "nickname"
    slip = chosen & ~nick
    typed = typo_names(rng, values[slip], rate=1.0)
    values[slip] = typed.values
    change[slip] = typed.change
    return Varied(values, change.astype(str))


def vary_family_names(
    rng: np.random.Generator,
    names: Sequence[str] | npt.NDArray[Any],
    *,
    rate: float | npt.NDArray[np.float64],
    change_share: float = 0.3,
    stock: Sequence[str] = FAMILY,
) -> Varied:
    """With probability ``rate`` a family name is varied: ``change_share`` of the time the name
    itself changed (double-barrelled with a name from ``stock``, hyphen dropped or one part
    dropped when it has two parts, or occasionally replaced by a married name), otherwise by a
    typing slip."""
    values = _as_objects(names)
    n = values.size
    chosen = (rng.random(n) < _rate(rate, n)) & np.array(
        [isinstance(v, str) and v != "" for v in values], dtype=bool
    )
    structural = chosen & (rng.random(n) < change_share)
    u = rng.random((n, 3))
    change = np.full(n, NONE, dtype=object)
    for i in np.flatnonzero(structural):
        name: str = values[i]
        other = stock[int(u[i, 1] * len(stock))]
        if other == name:
            other = stock[(int(u[i, 1] * len(stock)) + 1) % len(stock)]
        parts = name.replace("-", " ").split()
        if u[i, 0] < 0.2:
            values[i], change[i] = other, "married_name"
        elif len(parts) > 1 and "-" in name and u[i, 0] < 0.6:
            values[i], change[i] = (" " if u[i, 2] < 0.5 else "").join(parts), "hyphen_dropped"
        elif len(parts) > 1:
            values[i], change[i] = parts[0] if u[i, 2] < 0.5 else parts[-1], "part_dropped"
        else:
            values[i] = f"{name}-{other}" if u[i, 2] < 0.5 else f"{other}-{name}"
            change[i] = "double_barrelled"
    slip = chosen & ~structural
    typed = typo_names(rng, values[slip], rate=1.0)
    values[slip] = typed.values
    change[slip] = typed.change
    return Varied(values, change.astype(str))


def _ymd(
    days: npt.NDArray[np.datetime64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    years = days.astype("datetime64[Y]")
    months = days.astype("datetime64[M]")
    year = years.astype(np.int64) + 1970
    month = (months - years.astype("datetime64[M]")).astype(np.int64) + 1
    day = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, day


def _from_ymd(
    year: npt.NDArray[np.int64], month: npt.NDArray[np.int64], day: npt.NDArray[np.int64]
) -> npt.NDArray[np.datetime64]:
    """Dates from parts; a day past the month's end (29 February) is moved to its last day."""
    first = ((year - 1970) * 12 + month - 1).astype("datetime64[M]")
    length = ((first + 1).astype("datetime64[D]") - first.astype("datetime64[D]")).astype(np.int64)
    result: npt.NDArray[np.datetime64] = first.astype("datetime64[D]") + np.minimum(day, length) - 1
    return result


def vary_dobs(
    rng: np.random.Generator,
    dobs: npt.NDArray[np.datetime64] | Sequence[date],
    *,
    rate: float | npt.NDArray[np.float64],
    latest: date | None = None,
) -> Varied:
    """With probability ``rate`` a date of birth is misrecorded: day and month swapped (when
    that gives another valid date), off by one day, or one year digit wrong. Results are
    always real calendar dates and never after ``latest``. Values are ``datetime64[D]``."""
    days = np.asarray(dobs, dtype="datetime64[D]").copy()
    n = days.size
    chosen = (rng.random(n) < _rate(rate, n)) & ~np.isnat(days)
    kind = rng.choice(len(DOB_KINDS), size=n, p=[0.4, 0.35, 0.25])
    sign = np.where(rng.random(n) < 0.5, -1, 1)
    tens = rng.random(n) < 0.25
    safe = np.where(np.isnat(days), np.datetime64("2000-01-01"), days)
    year, month, day = _ymd(safe)
    swappable = (day <= 12) & (day != month)
    kind = np.where((kind == 0) & ~swappable, 1, kind)

    swapped = _from_ymd(year, day, month)
    shifted = safe + sign
    place = np.where(tens, 10, 1)
    digit = (year // place) % 10

    def wrong_year(s: npt.NDArray[np.int64]) -> npt.NDArray[np.datetime64]:
        return _from_ymd(year + ((digit + s) % 10 - digit) * place, month, day)

    misyear = wrong_year(sign)
    if latest is not None:
        limit = np.datetime64(latest.isoformat(), "D")
        misyear = np.where(misyear > limit, wrong_year(-sign), misyear)
    new = np.select([kind == 0, kind == 1], [swapped, shifted], misyear)
    if latest is not None:
        # A slip never makes someone born after the reference date: fall back to a day early.
        late = new > limit
        new = np.where(late, safe - 1, new)
        kind = np.where(late, 1, kind)
    days = np.where(chosen, new, days)
    change = np.where(chosen, np.array(DOB_KINDS)[kind], NONE)
    return Varied(days, change.astype(str))


def _domain_other_than(current: str, u: float) -> str:
    options = [d for d in EMAIL_DOMAINS if d != current]
    return options[int(u * len(options))]


def vary_emails(
    rng: np.random.Generator,
    emails: Sequence[str | None] | npt.NDArray[Any],
    *,
    missing: float | npt.NDArray[np.float64] = 0.0,
    outdated: float | npt.NDArray[np.float64] = 0.0,
    variant: float | npt.NDArray[np.float64] = 0.0,
) -> Varied:
    """Per address, in order: not held (``missing``), an old address at another reserved
    domain (``outdated``), or the same address with another reserved domain or with dots
    added/removed in the local part (``variant``). Only reserved example domains are used."""
    values = _as_objects(emails)
    n = values.size
    present = np.array([isinstance(v, str) and "@" in v for v in values], dtype=bool)
    u = rng.random((n, 5))
    gone = present & (u[:, 0] < _rate(missing, n))
    old = present & ~gone & (u[:, 1] < _rate(outdated, n))
    alt = present & ~gone & ~old & (u[:, 2] < _rate(variant, n))
    number = rng.integers(10, 100, size=n)
    change = np.full(n, NONE, dtype=object)
    values[gone] = None
    change[gone] = "missing"
    for i in np.flatnonzero(old):
        local, domain = values[i].rsplit("@", 1)
        stem = "".join(ch for ch in local if ch.isalpha()) or "user"
        values[i] = f"{stem}{number[i]}@{_domain_other_than(domain, u[i, 3])}"
        change[i] = "old_address"
    for i in np.flatnonzero(alt):
        local, domain = values[i].rsplit("@", 1)
        if "." in local and u[i, 4] < 0.5:
            values[i], change[i] = f"{local.replace('.', '')}@{domain}", "dots"
        elif len(local) > 1 and u[i, 4] < 0.5:
            cut = 1 + int(u[i, 3] * (len(local) - 1))
            values[i], change[i] = f"{local[:cut]}.{local[cut:]}@{domain}", "dots"
        else:
            values[i], change[i] = f"{local}@{_domain_other_than(domain, u[i, 3])}", "other_domain"
    return Varied(values, change.astype(str))


def _format_phone(e164: str, style: str) -> str:
    national = "0" + e164[3:]
    if style == "national_spaced":
        return f"{national[:5]} {national[5:]}"
    if style == "international_spaced":
        return f"+44 {national[1:5]} {national[5:]}"
    return f"({national[:5]}) {national[5:8]}-{national[8:]}"


def vary_phones(
    rng: np.random.Generator,
    phones: Sequence[str | None] | npt.NDArray[Any],
    *,
    missing: float | npt.NDArray[np.float64] = 0.0,
    outdated: float | npt.NDArray[np.float64] = 0.0,
    reformat: float | npt.NDArray[np.float64] = 0.0,
) -> Varied:
    """Per UK mobile number in E.164 (``+447...``), in order: not held (``missing``), an old
    number from the fictional drama range (``outdated``), or the same number written another
    way (``reformat``): ``07700 912345``, ``+44 7700 912345`` or ``(07700) 912-345``."""
    values = _as_objects(phones)
    n = values.size
    present = np.array([isinstance(v, str) and v != "" for v in values], dtype=bool)
    uk = np.array(
        [isinstance(v, str) and len(v) == 13 and v.startswith("+447") for v in values], dtype=bool
    )
    u = rng.random((n, 3))
    style = rng.choice(len(PHONE_FORMATS), size=n, p=[0.6, 0.25, 0.15])
    last = rng.integers(0, 1000, size=n)
    gone = present & (u[:, 0] < _rate(missing, n))
    old = present & ~gone & (u[:, 1] < _rate(outdated, n))
    fmt = uk & ~gone & ~old & (u[:, 2] < _rate(reformat, n))
    change = np.full(n, NONE, dtype=object)
    values[gone] = None
    change[gone] = "missing"
    for i in np.flatnonzero(old):
        number = f"{FICTIONAL_MOBILE_PREFIX}{last[i]:03d}"
        if number == values[i]:
            number = f"{FICTIONAL_MOBILE_PREFIX}{(last[i] + 1) % 1000:03d}"
        values[i], change[i] = number, "old_number"
    for i in np.flatnonzero(fmt):
        values[i] = _format_phone(values[i], PHONE_FORMATS[style[i]])
        change[i] = PHONE_FORMATS[style[i]]
    return Varied(values, change.astype(str))
