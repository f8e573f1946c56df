"""File and perceptual hashing for device triage and signal sharing: MD5, SHA-1 and SHA-256
of a file in one read (in parallel across files), PDQ perceptual hashes of images decoded at
reduced size, readers for hash sets (Project VIC VICS JSON 1.x and 2.0, simple CSV lists)
with categories mapped through configuration, an exact-hash lookup and a PDQ near-duplicate
index (multi-index hashing, exact up to Hamming distance 31). It may import ``exchange``
only; it knows nothing of devices or extractions (that is ``triage``)."""
