"""Device triage for the cases tier: reads a seized device's extraction (a folder, zip or
tar) into one path index without writing into the evidence, runs declarative artifact
parsers (Android SMS and calls, iOS SMS, WhatsApp) on read-only copies of their SQLite
databases, matches files against hash sets, scores conversations and the device with
reasons, and writes case reports that carry hashes and metadata, never images. It may
import ``exchange``, ``identity``, ``hashing`` and ``conversation``."""
