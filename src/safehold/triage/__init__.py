"""Device triage for the cases tier: reads a seized device's extraction (a folder, zip, tar,
or an E01/raw disk image through dfvfs) into one path index without writing into the
evidence, runs declarative artifact parsers (Android SMS, calls and contacts, iOS Messages
and AddressBook, WhatsApp) on private copies of their SQLite databases, matches files
against hash sets, scores conversations with likely children and the device with reasons,
and writes case reports that carry hashes and metadata, never images. It may import
``exchange``, ``identity``, ``hashing`` and ``conversation``."""
