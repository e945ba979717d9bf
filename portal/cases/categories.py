"""What a dispute can be about, and the remedies a claimant can ask for."""

from portal.i18n import _
from portal.procedure.case import CASE, STATES

STATE_NAMES = frozenset(STATES)

CATEGORIES = (
    "trade_execution",
    "liquidation",
    "deposit_withdrawal",
    "account_security",
    "kyc_aml",
    "fees_service",
    "other",
)


def category_label(key: str) -> str:
    return {
        "trade_execution": _("Trade execution"),
        "liquidation": _("Liquidation"),
        "deposit_withdrawal": _("Deposit or withdrawal"),
        "account_security": _("Account security"),
        "kyc_aml": _("KYC/AML restriction"),
        "fees_service": _("Fees and service"),
        "other": _("Other"),
    }.get(key, key)


def state_label(state: str) -> str:
    """The state's label from the case's table, in the reader's language."""
    return _(CASE.state(state).label) if state in STATE_NAMES else state


def severity_label(severity: str) -> str:
    return {
        "low": _("Low"),
        "medium": _("Medium"),
        "high": _("High"),
        "critical": _("Critical"),
    }.get(severity, severity)
