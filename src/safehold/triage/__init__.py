"""Device triage for the cases tier: reads a seized device's extraction (a folder, zip, tar,
or an E01/raw disk image through dfvfs) into one path index without writing into the
evidence, runs declarative artifact parsers (Android SMS, calls and contacts, iOS Messages
and AddressBook, WhatsApp, Kik, Telegram) on private copies of their SQLite databases,
matches files against hash sets, pseudonymises the device's contacts for a registry check
the caller supplies, scores conversations with likely children and the device with
reasons, and writes case reports that carry hashes and metadata, never images, and case
summaries for the hub's cases tier that carry counts and reasons only. It may import
``exchange``, ``identity``, ``hashing`` and ``conversation``."""
