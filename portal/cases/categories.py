"""What a dispute can be about, and the remedies a claimant can ask for."""

from portal.i18n import _

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
    return {
        "submitted": _("Submitted"),
        "triage": _("In first review"),
        "awaiting_info": _("Waiting for information"),
        "investigation": _("Under investigation"),
        "assessment": _("In assessment"),
        "proposed": _("Proposal made"),
        "objected": _("Proposal objected to"),
        "reconsideration": _("In reconsideration"),
        "mediation": _("In mediation"),
        "impasse": _("Mediation at an impasse"),
        "arbitration": _("In arbitration"),
        "settled": _("Settled"),
        "awarded": _("Award issued"),
        "resolved": _("Resolved"),
        "rejected": _("Rejected"),
        "appealed": _("Rejection appealed"),
        "withdrawn": _("Withdrawn"),
        "closed": _("Closed"),
    }.get(state, state)


def severity_label(severity: str) -> str:
    return {
        "low": _("Low"),
        "medium": _("Medium"),
        "high": _("High"),
        "critical": _("Critical"),
    }.get(severity, severity)
