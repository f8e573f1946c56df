"""Seeded synthetic device extractions, laid out like Android and iOS file systems.

Why: triage must be built and measured on devices whose truth we know, and no real seized
device may ever be used. Each device gets the real apps' database schemas (SMS, contacts,
call log, WhatsApp; iOS Messages, AddressBook, WhatsApp) filled with synthetic people and
conversations from ``synth.conversations`` (grooming *patterns* only, never sexual
content), and benign generated pictures (``synth.images``). A synthetic VICS 2.0 hash set
(UK profile) lists some pictures as "known"; a "serious" device holds exact copies of some
of them, edited (re-encoded, resized, cropped) copies of others and planted grooming
conversations with a contact whose address-book birthday makes them a child.
Timestamps are UTC. The same seed always gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pdqhash
import polars as pl

from safehold.synth import device_schemas as schemas
from safehold.synth.conversations import generate_conversations
from safehold.synth.device_telegram import write_cache4
from safehold.synth.images import edited, jpeg_bytes, shapes_image
from safehold.synth.names import FAMILY, FEMALE_GIVEN, MALE_GIVEN

KNOWN_SEED_BASE = 1_000_000
"""Known pictures use image seeds from here on; ordinary device pictures never do."""
_APPLE_EPOCH = datetime(2001, 1, 1, tzinfo=UTC)
_BAND_AGES = {"under_13": (9, 12), "13_15": (13, 15), "16_17": (16, 17)}
UK_CATEGORIES = ("1", "2", "3")
"""Raw VICS 2.0 UK-profile codes used for the synthetic known list (A, B, C)."""


@dataclass(frozen=True)
class DeviceSpec:
    device_id: str
    platform: str
    """'android' or 'ios'."""
    serious: bool
    known_copies: int = 0
    near_copies: int = 0
    grooming_conversations: int = 0
    other_conversations: int = 6
    ordinary_pictures: int = 6
    known_category: str | None = None
    """Raw category of the known pictures planted (None: a mix of A, B and C)."""
    telegram: bool = False
    """Android only: every third conversation goes to Telegram's ``cache4.db`` instead."""
    extra_contacts: tuple[tuple[str, str], ...] = ()
    """(full name, phone number) added to the address book with no conversation: for
    planting, say, a registered person of a synthetic world among the device's contacts."""


@dataclass(frozen=True)
class KnownPicture:
    seed: int
    file_name: str
    md5: str
    sha1: str
    pdq: str
    category: str


@dataclass
class DeviceTruth:
    """What was planted on a device, for checking triage (kept apart from the device)."""

    device_id: str
    platform: str
    serious: bool
    known_copies: list[str] = field(default_factory=list)
    near_copies: list[str] = field(default_factory=list)
    grooming_conversations: int = 0
    child_contacts: list[str] = field(default_factory=list)
    telegram_messages: int = 0


def known_pictures(n: int, seed: int) -> list[KnownPicture]:
    """The synthetic "known" list: ``n`` benign pictures with their hashes."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        image_seed = KNOWN_SEED_BASE + seed * 1000 + i
        data = jpeg_bytes(shapes_image(image_seed))
        bits, _ = pdqhash.compute(np.asarray(shapes_image(image_seed)))
        out.append(
            KnownPicture(
                seed=image_seed,
                file_name=f"known_{i:04d}.jpg",
                md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
                sha1=hashlib.sha1(data, usedforsecurity=False).hexdigest(),
                pdq=np.packbits(bits.astype(np.uint8)).tobytes().hex(),
                category=UK_CATEGORIES[int(rng.integers(0, 3))],
            )
        )
    return out


def write_vics_hash_set(pictures: Sequence[KnownPicture], path: Path) -> None:
    """A VICS 2.0 (UK profile) JSON hash set, with string booleans as VICS writes them."""
    document = {
        "@odata.context": "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/UK/$metadata#Media",
        "value": [
            {
                "MediaID": i + 1,
                "Category": int(p.category),
                "MD5": p.md5.upper(),
                "SHA1": p.sha1.upper(),
                "PDQ": p.pdq,
                "IsPrecategorized": "true",
                "IsDistributed": "false",
            }
            for i, p in enumerate(pictures)
        ],
    }
    path.write_text(json.dumps(document, indent=1), encoding="utf-8")


# --- people and conversations --------------------------------------------------------


def _name(rng: np.random.Generator) -> str:
    given = FEMALE_GIVEN if rng.random() < 0.5 else MALE_GIVEN
    return f"{given[int(rng.integers(len(given)))].title()} {FAMILY[int(rng.integers(len(FAMILY)))].title()}"


def _birthday(band: str, as_of: date, rng: np.random.Generator) -> str | None:
    if band in _BAND_AGES:
        low, high = _BAND_AGES[band]
    elif rng.random() < 0.5:
        low, high = 25, 60
    else:
        return None
    age = int(rng.integers(low, high + 1))
    born = as_of - timedelta(days=int(age * 365.25 + rng.integers(30, 330)))
    return born.isoformat()


@dataclass(frozen=True)
class _Contact:
    name: str
    number: str
    birthday: str | None
    band: str


@dataclass(frozen=True)
class _Chat:
    contact: _Contact
    messages: list[tuple[bool, datetime, str]]
    """(from owner, sent at, text)."""
    grooming: bool


def _chats(spec: DeviceSpec, seed: int, as_of: datetime) -> list[_Chat]:
    """Two-person conversations in which the owner is the adult participant."""
    rng = np.random.default_rng([seed, 1])
    wanted = spec.grooming_conversations + spec.other_conversations
    share = spec.grooming_conversations / wanted if wanted else 0.0
    start = as_of - timedelta(days=60)
    generated = generate_conversations(
        wanted * 4,
        seed=seed,
        grooming_share=share,
        hard_negative_share=0.3,
        start=start,
        period_days=50,
    )
    rows = generated.conversations.iter_rows(named=True)
    chats: list[_Chat] = []
    grooming_left, other_left = spec.grooming_conversations, spec.other_conversations
    used_numbers: set[int] = set()
    for row in rows:
        ids, bands = row["participant_ids"], row["participant_age_bands"]
        adults = [i for i, b in enumerate(bands) if b not in _BAND_AGES]
        if len(ids) != 2 or len(adults) != 1:
            continue
        grooming = row["kind"] == "grooming"
        if (grooming and not grooming_left) or (not grooming and not other_left):
            continue
        owner_id = ids[adults[0]]
        other_band = bands[1 - adults[0]]
        number = int(rng.integers(0, 1000))
        while number in used_numbers:
            number = (number + 1) % 1000
        used_numbers.add(number)
        contact = _Contact(
            _name(rng),
            f"07700 900{number:03d}",
            _birthday(other_band, as_of.date(), rng),
            other_band,
        )
        messages = generated.messages.filter(pl.col("conversation_id") == row["conversation_id"])
        chats.append(
            _Chat(
                contact,
                [
                    (sender == owner_id, sent_at.replace(tzinfo=UTC), text)
                    for sender, sent_at, text in messages.select(
                        "sender_id", "sent_at", "text"
                    ).iter_rows()
                ],
                grooming,
            )
        )
        if grooming:
            grooming_left -= 1
        else:
            other_left -= 1
        if not grooming_left and not other_left:
            break
    return chats


def _millis(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _apple_seconds(at: datetime) -> float:
    return (at - _APPLE_EPOCH).total_seconds()


def _database(path: Path, statements: Sequence[str]) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path)
    for statement in statements:
        connection.execute(statement)
    return connection


def _e164_digits(number: str) -> str:
    return "44" + number.replace(" ", "")[1:]


# --- Android -------------------------------------------------------------------------


def _android(root: Path, sms: list[_Chat], whatsapp: list[_Chat], contacts: list[_Contact]) -> None:
    data = root / "data" / "data"
    db = _database(
        data / "com.android.providers.telephony/databases/mmssms.db", schemas.ANDROID_MMSSMS
    )
    for thread, chat in enumerate(sms, start=1):
        db.execute(
            "INSERT INTO canonical_addresses (_id, address) VALUES (?, ?)",
            (thread, chat.contact.number),
        )
        db.execute(
            "INSERT INTO threads (_id, date, message_count, recipient_ids) VALUES (?, ?, ?, ?)",
            (thread, _millis(chat.messages[-1][1]), len(chat.messages), str(thread)),
        )
        for from_owner, at, text in chat.messages:
            db.execute(
                "INSERT INTO sms (thread_id, address, date, date_sent, type, body, read, seen) "
                "VALUES (?, ?, ?, ?, ?, ?, 1, 1)",
                (
                    thread,
                    chat.contact.number,
                    _millis(at),
                    _millis(at),
                    2 if from_owner else 1,
                    text,
                ),
            )
    db.commit()
    db.close()
    db = _database(
        data / "com.android.providers.contacts/databases/contacts2.db", schemas.ANDROID_CONTACTS2
    )
    db.executemany(
        "INSERT INTO mimetypes (_id, mimetype) VALUES (?, ?)",
        [
            (1, "vnd.android.cursor.item/name"),
            (5, "vnd.android.cursor.item/phone_v2"),
            (11, "vnd.android.cursor.item/contact_event"),
        ],
    )
    for row, contact in enumerate(contacts, start=1):
        db.execute(
            "INSERT INTO raw_contacts (_id, contact_id, display_name) VALUES (?, ?, ?)",
            (row, row, contact.name),
        )
        db.execute(
            "INSERT INTO data (mimetype_id, raw_contact_id, data1) VALUES (1, ?, ?)",
            (row, contact.name),
        )
        db.execute(
            "INSERT INTO data (mimetype_id, raw_contact_id, data1, data2) VALUES (5, ?, ?, '2')",
            (row, contact.number),
        )
        if contact.birthday:
            db.execute(
                "INSERT INTO data (mimetype_id, raw_contact_id, data1, data2) VALUES (11, ?, ?, '3')",
                (row, contact.birthday),
            )
    for chat in sms + whatsapp:
        at = chat.messages[len(chat.messages) // 2][1]
        db.execute(
            "INSERT INTO calls (number, date, duration, type, name, countryiso) VALUES (?, ?, ?, ?, ?, 'GB')",
            (chat.contact.number, _millis(at), 60 + len(chat.messages) * 7, 2, chat.contact.name),
        )
    db.commit()
    db.close()
    db = _database(data / "com.whatsapp/databases/msgstore.db", schemas.WHATSAPP_MSGSTORE)
    for chat_id, chat in enumerate(whatsapp, start=1):
        digits = _e164_digits(chat.contact.number)
        db.execute(
            "INSERT INTO jid (_id, user, server, raw_string) VALUES (?, ?, 's.whatsapp.net', ?)",
            (chat_id, digits, f"{digits}@s.whatsapp.net"),
        )
        db.execute("INSERT INTO chat (_id, jid_row_id) VALUES (?, ?)", (chat_id, chat_id))
        for k, (from_owner, at, text) in enumerate(chat.messages):
            db.execute(
                "INSERT INTO message (chat_row_id, from_me, key_id, sender_jid_row_id, timestamp, "
                "message_type, text_data) VALUES (?, ?, ?, ?, ?, 0, ?)",
                (
                    chat_id,
                    int(from_owner),
                    f"K{chat_id}-{k}",
                    None if from_owner else chat_id,
                    _millis(at),
                    text,
                ),
            )
    db.commit()
    db.close()


# --- iOS -----------------------------------------------------------------------------


def _ios(root: Path, sms: list[_Chat], whatsapp: list[_Chat], contacts: list[_Contact]) -> None:
    mobile = root / "private" / "var" / "mobile"
    db = _database(mobile / "Library/SMS/sms.db", schemas.IOS_SMS)
    for chat_id, chat in enumerate(sms, start=1):
        handle = "+" + _e164_digits(chat.contact.number)
        db.execute(
            "INSERT INTO handle (ROWID, id, country, service) VALUES (?, ?, 'gb', 'iMessage')",
            (chat_id, handle),
        )
        db.execute(
            "INSERT INTO chat (ROWID, guid, style, chat_identifier, service_name) VALUES (?, ?, 45, ?, 'iMessage')",
            (chat_id, f"iMessage;-;{handle}", handle),
        )
        db.execute("INSERT INTO chat_handle_join VALUES (?, ?)", (chat_id, chat_id))
        for k, (from_owner, at, text) in enumerate(chat.messages):
            cursor = db.execute(
                "INSERT INTO message (guid, text, handle_id, service, date, is_from_me) VALUES (?, ?, ?, 'iMessage', ?, ?)",
                (f"G{chat_id}-{k}", text, chat_id, int(_apple_seconds(at) * 1e9), int(from_owner)),
            )
            db.execute(
                "INSERT INTO chat_message_join VALUES (?, ?, ?)",
                (chat_id, cursor.lastrowid, int(_apple_seconds(at) * 1e9)),
            )
    db.commit()
    db.close()
    db = _database(mobile / "Library/AddressBook/AddressBook.sqlitedb", schemas.IOS_ADDRESSBOOK)
    for row, contact in enumerate(contacts, start=1):
        first, last = contact.name.split(" ", 1)
        birthday = None
        if contact.birthday:
            born = datetime.fromisoformat(contact.birthday).replace(tzinfo=UTC)
            birthday = str(_apple_seconds(born))
        db.execute(
            "INSERT INTO ABPerson (ROWID, First, Last, Birthday) VALUES (?, ?, ?, ?)",
            (row, first, last, birthday),
        )
        db.execute(
            "INSERT INTO ABMultiValue (record_id, property, identifier, label, value) VALUES (?, 3, 0, 1, ?)",
            (row, contact.number),
        )
    db.commit()
    db.close()
    group = mobile / "Containers/Shared/AppGroup/3C2F0D1E-5A7B-4C11-9E0A-7D1B2C3D4E5F"
    db = _database(group / "ChatStorage.sqlite", schemas.WHATSAPP_CHATSTORAGE)
    for chat_id, chat in enumerate(whatsapp, start=1):
        jid = f"{_e164_digits(chat.contact.number)}@s.whatsapp.net"
        db.execute(
            "INSERT INTO ZWACHATSESSION (Z_PK, ZCONTACTJID, ZPARTNERNAME, ZMESSAGECOUNTER) VALUES (?, ?, ?, ?)",
            (chat_id, jid, chat.contact.name, len(chat.messages)),
        )
        for from_owner, at, text in chat.messages:
            db.execute(
                "INSERT INTO ZWAMESSAGE (ZISFROMME, ZCHATSESSION, ZMESSAGEDATE, ZFROMJID, ZTOJID, ZTEXT, ZMESSAGETYPE) "
                "VALUES (?, ?, ?, ?, ?, ?, 0)",
                (
                    int(from_owner),
                    chat_id,
                    _apple_seconds(at),
                    None if from_owner else jid,
                    jid if from_owner else None,
                    text,
                ),
            )
    db.commit()
    db.close()


# --- pictures ------------------------------------------------------------------------


def _pictures(
    root: Path, spec: DeviceSpec, known: Sequence[KnownPicture], seed: int, truth: DeviceTruth
) -> None:
    rng = np.random.default_rng([seed, 2])
    if spec.platform == "android":
        camera, saved = root / "sdcard/DCIM/Camera", root / "sdcard/Pictures/Saved"
    else:
        camera = root / "private/var/mobile/Media/DCIM/100APPLE"
        saved = root / "private/var/mobile/Media/DCIM/101APPLE"
    camera.mkdir(parents=True, exist_ok=True)
    saved.mkdir(parents=True, exist_ok=True)
    for i in range(spec.ordinary_pictures):
        image = shapes_image(seed * 1000 + i)
        (camera / f"IMG_{i:04d}.jpg").write_bytes(jpeg_bytes(image))
    pool = [k for k in known if spec.known_category is None or k.category == spec.known_category]
    chosen = rng.permutation(len(pool))
    copies = [pool[int(i)] for i in chosen[: spec.known_copies]]
    nears = [pool[int(i)] for i in chosen[spec.known_copies : spec.known_copies + spec.near_copies]]
    for i, picture in enumerate(copies):
        path = saved / f"saved_{i:04d}.jpg"
        path.write_bytes(jpeg_bytes(shapes_image(picture.seed)))
        truth.known_copies.append(path.relative_to(root).as_posix())
    edits = ("re-encode", "resize", "crop")
    for i, picture in enumerate(nears):
        edit = edits[i % len(edits)]
        path = saved / f"edited_{i:04d}.jpg"
        path.write_bytes(jpeg_bytes(edited(shapes_image(picture.seed), edit), quality=60))
        truth.near_copies.append(path.relative_to(root).as_posix())


# --- one device and a set of them ----------------------------------------------------


def write_device(
    root: Path, spec: DeviceSpec, known: Sequence[KnownPicture], *, seed: int, as_of: datetime
) -> DeviceTruth:
    """Write one extraction under ``root`` (created) and return what was planted."""
    if spec.platform not in ("android", "ios"):
        raise ValueError(f"platform must be 'android' or 'ios', got {spec.platform!r}")
    root.mkdir(parents=True, exist_ok=True)
    truth = DeviceTruth(spec.device_id, spec.platform, spec.serious)
    chats = _chats(spec, seed, as_of)
    sms, whatsapp = chats[0::2], chats[1::2]
    telegram: list[_Chat] = []
    if spec.telegram and spec.platform == "android":
        sms, whatsapp, telegram = chats[0::3], chats[1::3], chats[2::3]
    contacts = [c.contact for c in chats]  # Telegram syncs its contacts from here too
    contacts += [_Contact(name, number, None, "adult") for name, number in spec.extra_contacts]
    truth.grooming_conversations = sum(c.grooming for c in chats)
    truth.child_contacts = [c.contact.number for c in chats if c.contact.band in _BAND_AGES]
    if spec.platform == "android":
        _android(root, sms, whatsapp, contacts)
        if telegram:
            truth.telegram_messages = write_cache4(
                root / "data/data/org.telegram.messenger/files/cache4.db",
                [(c.contact.name, _e164_digits(c.contact.number), c.messages) for c in telegram],
            )
    else:
        _ios(root, sms, whatsapp, contacts)
    _pictures(root, spec, known, seed, truth)
    return truth


def standard_specs(n_serious: int = 3, n_other: int = 7) -> list[DeviceSpec]:
    """A case load: serious devices (known pictures of all categories, near-duplicates and
    grooming; every third one grooming conversations only, no pictures), and others
    (ordinary devices with child contacts and benign hard negatives; the first holds a
    single category-C near-duplicate)."""
    specs = []
    for i in range(n_serious):
        platform = "android" if i % 2 == 0 else "ios"
        if i % 3 == 2:
            specs.append(DeviceSpec(f"device-{i:03d}", platform, True, grooming_conversations=3))
            continue
        specs.append(
            DeviceSpec(
                f"device-{i:03d}",
                platform,
                True,
                known_copies=4 + i,
                near_copies=3,
                grooming_conversations=2,
            )
        )
    for j in range(n_other):
        k = n_serious + j
        low = j == 0
        specs.append(
            DeviceSpec(
                f"device-{k:03d}",
                "ios" if k % 2 == 0 else "android",
                False,
                near_copies=1 if low else 0,
                known_category="3" if low else None,
                other_conversations=8,
            )
        )
    return specs


def generate_devices(
    out: Path,
    specs: Sequence[DeviceSpec],
    *,
    seed: int,
    known_count: int = 40,
    as_of: datetime = datetime(2026, 11, 1, tzinfo=UTC),
) -> list[DeviceTruth]:
    """Write ``out/known_hashes.json`` (VICS 2.0), one folder per device under
    ``out/devices/`` and ``out/truth.json`` (the planted truth, kept apart)."""
    out.mkdir(parents=True, exist_ok=True)
    known = known_pictures(known_count, seed)
    write_vics_hash_set(known, out / "known_hashes.json")
    truths = [
        write_device(
            out / "devices" / spec.device_id, spec, known, seed=seed * 10_000 + i, as_of=as_of
        )
        for i, spec in enumerate(specs)
    ]
    (out / "truth.json").write_text(
        json.dumps([t.__dict__ for t in truths], indent=1), encoding="utf-8"
    )
    return truths
