"""The coalition's access policy, in one place: which role may call which action, and which
role may write which record type (and so which tier). Routes never test roles themselves;
each declares its action through ``authorize`` (hub.auth), and ingest asks ``may_write``.
A test walks every route with every role against these tables."""

from __future__ import annotations

from enum import StrEnum

from safehold.store.tiers import RECORD_TIER, Tier


class Role(StrEnum):
    OPERATOR = "operator"
    PLATFORM = "platform"
    POLICE = "police"
    PROBATION = "probation"
    COURT = "court"
    LOCAL_AUTHORITY = "local_authority"
    RESEARCHER = "researcher"
    AUDITOR = "auditor"


class Action(StrEnum):
    """Everything a route can do; each route is bound to exactly one action."""

    MEMBERS_READ = "members.read"
    MEMBERS_WRITE = "members.write"
    KEYS_WRITE = "keys.write"
    WHOAMI = "whoami"
    BATCH_SUBMIT = "batch.submit"
    REGISTRY_CHECK = "registry.check"
    SIGNALS_READ = "signals.read"
    SIGNALS_WRITE = "signals.write"
    AUDIT_VERIFY = "audit.verify"
    REFERRALS_WRITE = "referrals.write"
    REFERRALS_READ = "referrals.read"
    CONTACTS_SCREEN = "contacts.screen"
    ALERTS_READ = "alerts.read"
    REGISTRY_CHECK_CONTACTS = "registry.check_contacts"
    CASES_WRITE = "cases.write"
    CASES_READ = "cases.read"
    ALERTS_DELIVER = "alerts.deliver"
    # The web UI (hub.web): a signed-in user's role is checked against the same table.
    WEB_SESSION = "web.session"
    ALERTS_REVIEW = "alerts.review"
    DECISIONS_WRITE = "decisions.write"
    DECISIONS_READ = "decisions.read"
    AUDIT_SEARCH = "audit.search"
    # Oversight pages (hub.web.cases, .monitoring).
    CASES_REVIEW = "cases.review"
    CASES_SUPPORT = "cases.support"
    MONITORING_READ = "monitoring.read"


_R = Role
_JUSTICE = frozenset({_R.POLICE, _R.PROBATION, _R.COURT})
_MEMBERS = frozenset({_R.PLATFORM, *_JUSTICE, _R.LOCAL_AUTHORITY, _R.RESEARCHER})

POLICY: dict[Action, frozenset[Role]] = {
    Action.MEMBERS_READ: frozenset({_R.OPERATOR, _R.AUDITOR}),
    Action.MEMBERS_WRITE: frozenset({_R.OPERATOR}),
    Action.KEYS_WRITE: frozenset({_R.OPERATOR}),
    Action.WHOAMI: frozenset(Role),
    # Researchers work inside the enclave on exports, never through the API.
    Action.BATCH_SUBMIT: frozenset({_R.PLATFORM, *_JUSTICE, _R.LOCAL_AUTHORITY}),
    Action.REGISTRY_CHECK: frozenset({_R.PLATFORM}),
    Action.SIGNALS_READ: frozenset({_R.PLATFORM}),
    Action.SIGNALS_WRITE: frozenset({_R.PLATFORM}),
    Action.AUDIT_VERIFY: frozenset({_R.AUDITOR, _R.OPERATOR}),
    # Safeguarding referrals (cases tier): police send them, and read back their own; a local
    # authority reads those addressed to it (the route filters by member).
    Action.REFERRALS_WRITE: frozenset({_R.POLICE}),
    Action.REFERRALS_READ: frozenset({_R.POLICE, _R.LOCAL_AUTHORITY}),
    # The alerts tier: a platform screens its own contact events and reads its own alerts.
    Action.CONTACTS_SCREEN: frozenset({_R.PLATFORM}),
    Action.ALERTS_READ: frozenset({_R.PLATFORM}),
    # Police triaging a seized device may ask whether the device's contacts are registered:
    # pseudonymised on the police side, match or no match only (typology as coalition policy
    # says, as for platforms), each check bound to a device reference that the audit event
    # records, and on a tighter rate limit of its own (hub.ratelimit). Probation and courts
    # hold no seized devices, so they do not check.
    Action.REGISTRY_CHECK_CONTACTS: frozenset({_R.POLICE}),
    # Device cases (cases tier): police push their triaged devices' summaries (score,
    # reasons, counts; no evidence) and read back only their own.
    Action.CASES_WRITE: frozenset({_R.POLICE}),
    Action.CASES_READ: frozenset({_R.POLICE}),
    # A platform's own klaxon worker delivers the alerts it raised to its queue here.
    Action.ALERTS_DELIVER: frozenset({_R.PLATFORM}),
    # Web UI: every signed-in user has a home page and can sign out; a platform's reviewers
    # work its alert queue and decide; its systems read the decisions back (API, webhook);
    # auditors (and the operator) search the audit trail and verify its chain.
    Action.WEB_SESSION: frozenset(Role),
    Action.ALERTS_REVIEW: frozenset({_R.PLATFORM}),
    Action.DECISIONS_WRITE: frozenset({_R.PLATFORM}),
    Action.DECISIONS_READ: frozenset({_R.PLATFORM}),
    Action.AUDIT_SEARCH: frozenset({_R.AUDITOR, _R.OPERATOR}),
    # Cases pages: police read their triaged devices, the escalations addressed to them and
    # the referrals they sent; a local authority reads the referrals addressed to it and
    # records the support given (each page filters by member). Monitoring: a platform sees
    # its own alerts' precision; the operator and auditors see every member's.
    Action.CASES_REVIEW: frozenset({_R.POLICE, _R.LOCAL_AUTHORITY}),
    Action.CASES_SUPPORT: frozenset({_R.LOCAL_AUTHORITY}),
    Action.MONITORING_READ: frozenset({_R.PLATFORM, _R.OPERATOR, _R.AUDITOR}),
}
"""Action -> the roles allowed to perform it. Anything not listed is denied."""

PUBLIC_PATHS = frozenset(
    {
        "/v1/health",
        "/v1/version",
        "/docs",
        "/openapi.json",
        "/redoc",
        "/transparency",
        "/signin",
        "/static",
    }
)
"""The only routes that answer without authentication (``/static`` and what is under it)."""

WRITERS: dict[str, frozenset[Role]] = {
    "registry_entry": _JUSTICE,
    "signal": frozenset({_R.PLATFORM}),
    "behaviour": frozenset({_R.PLATFORM}),
    "account_keys": frozenset({_R.PLATFORM}),
    "contact_event": frozenset({_R.PLATFORM}),
    "conversation": frozenset({_R.PLATFORM}),
    "cohort_label": frozenset({*_JUSTICE, _R.LOCAL_AUTHORITY}),
}
"""Record type -> the roles that may contribute it (and so write to its tier)."""

TIER_READERS: dict[Tier, str] = {
    Tier.REGISTRY: "platforms, as match or no match for identifiers they hold; never the list",
    Tier.SIGNALS: "platforms",
    Tier.ENCLAVE: "the research team, through `safehold hub export enclave` (source blinded)",
    Tier.ALERTS: "the member whose users are concerned",
    Tier.CASES: "police; the local authority named in a referral",
}
"""Who reads each tier, for the documentation and the policy test."""

assert set(WRITERS) == set(RECORD_TIER), "every record type needs writers and a tier"
assert _MEMBERS | {_R.OPERATOR, _R.AUDITOR} == set(Role)


def allowed(role: Role, action: Action) -> bool:
    return role in POLICY[action]


def may_write(role: Role, record_type: str) -> bool:
    return role in WRITERS.get(record_type, frozenset())


def write_denial(role: Role, record_type: str) -> str:
    """Why a role may not write a record type, in plain words."""
    tier = RECORD_TIER[record_type]
    writers = ", ".join(sorted(r.value for r in WRITERS[record_type]))
    return (
        f"a {role.value} member may not write {record_type} records (tier '{tier}': {writers} only)"
    )
