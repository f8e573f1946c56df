"""The seeded synthetic coalition world: members, a population with latent traits, accounts,
behaviour, justice records, children known to services, contact events and conversations,
seized-device extractions with benign pictures and a synthetic known-image hash set,
each with its ground truth kept apart.

It exists because real personal data may never be used. It may import `safehold.exchange`
and `safehold.identity`; production code never imports it (it is a producer of inputs).
"""
