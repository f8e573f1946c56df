"""How each behaviour feature is generated: latent traits, group factors, shifts and units.

Every feature starts as a standard-normal score ``z`` built from five latent traits shared
by all of a person's accounts, a factor shared within the feature's group, and noise, so
features are correlated the way real behaviour is. Demographic shifts, the offender effect
and the vulnerable-child effect move ``z``; a monotone transform then gives the feature its
unit. Deprivation leaves a modest trace (shared devices, less spending, shift-work hours,
fewer profile details), and where agencies over-police deprived areas (``selection_bias``)
platforms over-report and over-block their users too (``policing_shift``): the path by which
a model trained on known offenders comes to flag deprived non-offenders. Because the effects are mean shifts of a Gaussian with known covariance, the
Bayes-optimal AUROC they allow can be computed exactly (see ``bayes``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from safehold.exchange import FeatureGroup, behaviour_features

TRAITS = ("intensity", "sociability", "nocturnality", "spending", "secrecy")
GROUP_FACTOR_LOADING = 0.45


@dataclass(frozen=True)
class FeatureModel:
    name: str
    group: FeatureGroup
    transform: str  # count | fraction | positive | period_days | account_days
    mu: float
    scale: float
    loadings: tuple[float, float, float, float, float]
    child_shift: float = 0.0
    deprivation_shift: float = 0.0  # per quintile step towards the most deprived
    policing_shift: float = 0.0  # the same, per unit of selection bias (over-moderation)
    offender: float = 0.0  # direction and weight of the offender effect
    vulnerable: float = 0.0  # direction and weight of the vulnerable-child effect


def _m(
    name: str,
    transform: str,
    mu: float,
    scale: float,
    loadings: tuple[float, float, float, float, float],
    **kw: float,
) -> FeatureModel:
    group = next(f.group for f in behaviour_features() if f.name == name)
    return FeatureModel(name, group, transform, mu, scale, loadings, **kw)


MODELS: tuple[FeatureModel, ...] = (
    # account
    _m("account_age_days", "account_days", 6.3, 0.9, (0.2, 0.1, 0.0, 0.1, -0.1), child_shift=-1.0),
    _m(
        "profile_completeness",
        "fraction",
        0.3,
        1.0,
        (0.3, 0.3, 0.0, 0.0, -0.3),
        offender=-0.5,
        deprivation_shift=-0.12,
    ),
    _m(
        "age_declaration_changes",
        "count",
        -0.3,
        0.8,
        (0.0, 0.0, 0.0, 0.0, 0.4),
        child_shift=0.4,
        offender=0.5,
        vulnerable=0.5,
    ),
    _m(
        "linked_accounts",
        "count",
        -0.3,
        0.8,
        (0.2, 0.0, 0.1, 0.0, 0.4),
        offender=0.5,
        deprivation_shift=0.18,
    ),
    # messaging
    _m("messages_sent", "count", 4.5, 1.2, (0.6, 0.4, 0.1, 0.0, 0.0), child_shift=0.3),
    _m(
        "messages_received",
        "count",
        4.5,
        1.2,
        (0.6, 0.45, 0.0, 0.0, 0.0),
        child_shift=0.3,
        vulnerable=0.5,
    ),
    _m("conversations_started", "count", 2.0, 1.0, (0.4, 0.5, 0.0, 0.0, 0.0), offender=0.5),
    _m("median_reply_seconds", "positive", 6.5, 1.2, (-0.5, -0.2, 0.0, 0.0, 0.0), child_shift=-0.3),
    _m(
        "deleted_message_share",
        "fraction",
        -3.5,
        0.9,
        (0.0, 0.0, 0.1, 0.0, 0.5),
        offender=1.0,
        vulnerable=0.5,
    ),
    _m(
        "disappearing_message_share",
        "fraction",
        -3.0,
        1.1,
        (0.0, 0.0, 0.1, 0.0, 0.55),
        child_shift=0.3,
        offender=1.0,
        vulnerable=0.5,
    ),
    # contacts
    _m("contacts_total", "count", 4.0, 0.9, (0.3, 0.7, 0.0, 0.0, 0.0), child_shift=0.2),
    _m("new_contacts", "count", 1.8, 1.0, (0.3, 0.6, 0.0, 0.0, 0.1), offender=1.0, vulnerable=0.5),
    _m("friend_requests_sent", "count", 1.5, 1.0, (0.3, 0.6, 0.0, 0.0, 0.1), offender=1.0),
    _m("friend_request_acceptance", "fraction", 1.0, 0.8, (0.0, 0.3, 0.0, 0.0, 0.0), offender=-0.5),
    _m("contacts_initiated_share", "fraction", 0.0, 0.7, (0.1, 0.4, 0.0, 0.0, 0.1), offender=1.0),
    _m(
        "mutual_contacts_median",
        "count",
        1.5,
        0.8,
        (0.0, 0.5, 0.0, 0.0, -0.2),
        child_shift=0.5,
        offender=-1.0,
    ),
    # audience age
    _m(
        "minor_contacts_share",
        "fraction",
        -3.0,
        0.8,
        (0.0, 0.1, 0.0, 0.0, 0.0),
        child_shift=4.0,
        offender=1.0,
        vulnerable=-1.0,
    ),
    _m(
        "minor_new_contacts_share",
        "fraction",
        -3.0,
        0.9,
        (0.0, 0.1, 0.0, 0.0, 0.1),
        child_shift=4.0,
        offender=1.0,
        vulnerable=-1.0,
    ),
    _m(
        "messages_to_minors_share",
        "fraction",
        -3.2,
        0.9,
        (0.0, 0.1, 0.0, 0.0, 0.0),
        child_shift=4.2,
        offender=1.0,
    ),
    _m(
        "contact_age_gap_years",
        "positive",
        1.8,
        0.5,
        (0.0, 0.0, 0.0, 0.0, 0.1),
        child_shift=-0.3,
        offender=1.0,
        vulnerable=1.0,
    ),
    _m(
        "youth_content_follow_share",
        "fraction",
        -2.5,
        0.9,
        (0.0, 0.0, 0.0, 0.0, 0.0),
        child_shift=3.0,
        offender=0.5,
    ),
    # posting
    _m("posts", "count", 2.0, 1.3, (0.5, 0.3, 0.0, 0.0, -0.2)),
    _m(
        "comments_on_minor_posts",
        "count",
        -0.5,
        1.0,
        (0.3, 0.2, 0.0, 0.0, 0.0),
        child_shift=2.5,
        offender=1.0,
    ),
    _m("media_shared", "count", 2.5, 1.2, (0.5, 0.3, 0.0, 0.0, 0.0), child_shift=0.3),
    _m(
        "live_streams_watched",
        "count",
        1.0,
        1.3,
        (0.5, 0.0, 0.3, 0.0, 0.0),
        child_shift=0.5,
        offender=0.5,
    ),
    # purchases
    _m(
        "purchases_game_credit",
        "count",
        0.0,
        1.0,
        (0.2, 0.0, 0.0, 0.6, 0.0),
        child_shift=0.4,
        deprivation_shift=-0.09,
        offender=0.5,
    ),
    _m(
        "purchases_gift_card",
        "count",
        -0.4,
        0.9,
        (0.0, 0.0, 0.0, 0.6, 0.1),
        deprivation_shift=0.06,
        offender=1.0,
    ),
    _m(
        "purchases_other",
        "count",
        0.5,
        1.0,
        (0.2, 0.0, 0.0, 0.6, 0.0),
        child_shift=-0.5,
        deprivation_shift=-0.18,
    ),
    _m(
        "gifts_sent",
        "count",
        -0.4,
        1.0,
        (0.1, 0.3, 0.0, 0.5, 0.1),
        deprivation_shift=-0.06,
        offender=1.0,
    ),
    # time of day
    _m(
        "night_activity_share",
        "fraction",
        -2.2,
        0.8,
        (0.1, 0.0, 0.7, 0.0, 0.1),
        child_shift=-0.2,
        deprivation_shift=0.15,
        offender=1.0,
        vulnerable=1.0,
    ),
    _m("weekend_activity_share", "fraction", -0.9, 0.5, (0.0, 0.2, 0.0, 0.0, 0.0), child_shift=0.2),
    _m("active_days", "period_days", 0.5, 1.2, (0.7, 0.2, 0.0, 0.0, 0.0), child_shift=0.3),
    _m(
        "sessions_per_day",
        "positive",
        1.0,
        0.6,
        (0.6, 0.1, 0.2, 0.0, 0.0),
        child_shift=0.3,
        deprivation_shift=0.12,
        vulnerable=0.5,
    ),
    # off-platform
    _m(
        "off_platform_links_sent",
        "count",
        -0.3,
        1.0,
        (0.2, 0.2, 0.0, 0.0, 0.4),
        child_shift=0.2,
        offender=1.0,
        vulnerable=0.5,
    ),
    _m(
        "external_app_mentions",
        "count",
        0.2,
        1.0,
        (0.2, 0.2, 0.0, 0.0, 0.3),
        child_shift=0.3,
        offender=1.0,
    ),
    _m(
        "off_platform_to_minors_share",
        "fraction",
        -3.5,
        0.9,
        (0.0, 0.0, 0.0, 0.0, 0.2),
        child_shift=4.0,
        offender=1.0,
    ),
    # reports received
    _m(
        "reports_received",
        "count",
        -0.6,
        0.9,
        (0.2, 0.1, 0.0, 0.0, 0.3),
        deprivation_shift=0.18,
        policing_shift=0.6,
        offender=0.5,
    ),
    _m(
        "blocks_received",
        "count",
        -0.4,
        0.9,
        (0.2, 0.2, 0.0, 0.0, 0.3),
        deprivation_shift=0.12,
        policing_shift=0.6,
        offender=1.0,
    ),
    _m(
        "reports_upheld",
        "count",
        -1.2,
        0.8,
        (0.1, 0.0, 0.0, 0.0, 0.3),
        deprivation_shift=0.15,
        policing_shift=0.6,
        offender=0.5,
    ),
)

FEATURE_ORDER: tuple[str, ...] = tuple(m.name for m in MODELS)
GROUPS: tuple[FeatureGroup, ...] = tuple(FeatureGroup)


def loading_matrix() -> npt.NDArray[np.float64]:
    """Trait loadings, shape (features, traits)."""
    return np.array([m.loadings for m in MODELS], dtype=np.float64)


def group_index() -> npt.NDArray[np.int64]:
    return np.array([GROUPS.index(m.group) for m in MODELS], dtype=np.int64)


def noise_scale() -> npt.NDArray[np.float64]:
    """Per-feature noise so that every ``z`` has unit variance in the general population."""
    shared = (loading_matrix() ** 2).sum(axis=1) + GROUP_FACTOR_LOADING**2
    if np.any(shared >= 1.0):
        raise AssertionError("a feature's shared variance reaches 1; lower its loadings")
    scale: npt.NDArray[np.float64] = np.sqrt(1.0 - shared)
    return scale


def covariance() -> npt.NDArray[np.float64]:
    """Covariance of ``z`` between features of one account, given its demographics."""
    loadings = loading_matrix()
    groups = group_index()
    same_group = (groups[:, None] == groups[None, :]).astype(np.float64)
    cov: npt.NDArray[np.float64] = loadings @ loadings.T + GROUP_FACTOR_LOADING**2 * same_group
    cov[np.diag_indices_from(cov)] += noise_scale() ** 2
    return cov


def deprivation_shift(selection_bias: float) -> npt.NDArray[np.float64]:
    """Shift of ``z`` per quintile step towards the most deprived (+1 for quintile 1)."""
    return np.array([m.deprivation_shift + selection_bias * m.policing_shift for m in MODELS])


def offender_shift(effect: float) -> npt.NDArray[np.float64]:
    return effect * np.array([m.offender for m in MODELS], dtype=np.float64)


def vulnerable_shift(effect: float) -> npt.NDArray[np.float64]:
    return effect * np.array([m.vulnerable for m in MODELS], dtype=np.float64)


if set(FEATURE_ORDER) != {
    f.name for f in behaviour_features()
}:  # pragma: no cover - import-time guard
    raise AssertionError("behaviour_model.MODELS and the exchange data dictionary disagree")
