"""Conversation risk scoring: reads a conversation message by message and keeps a risk score
in [0, 1] and the grooming stages seen so far (rapport, risk assessment, exclusivity and
secrecy, gifts, moving platform, meeting), raises an early warning under a k-of-n policy,
and points a reviewer at the message ids and character spans that made the difference. It
also owns training the model and evaluating it honestly (split by phrasing family, with
bootstrap confidence intervals). It may import ``exchange`` only; the CLI turns synthetic
conversations from ``synth`` into the plain labelled records this package trains on."""
