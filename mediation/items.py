"""What a settlement offer promises, item by item, and how each item reads.

An item is a small dict, stored as JSON with the offer and copied into its ledger entry:

    {"kind": "pay", "by": "platform", "to": "claimant", "amount": "250", "asset": "USDT"}
    {"kind": "unfreeze", "by": "platform", "account": "UID 1234"}
    {"kind": "withdraw_claim", "by": "claimant"}
    {"kind": "other", "by": "respondent", "text": "Apologise in writing."}

`by` and `to` name sides (claimant, respondent, platform), never people, so an offer
reads the same whoever later speaks for a side. Amounts are decimal strings, as the
ledger keeps them.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from portal.i18n import _
from portal.procedure import roles

KINDS = ("pay", "unfreeze", "withdraw_claim", "other")
ROWS = 4  # item rows on the offer form; blank rows are ignored
TEXT_LIMIT = 1_000

KIND_LABELS: dict[str, Callable[[], str]] = {
    "pay": lambda: _("Pay an amount"),
    "unfreeze": lambda: _("Unfreeze an account"),
    "withdraw_claim": lambda: _("Withdraw the claim"),
    "other": lambda: _("Another action"),
}


def side_label(side: str, names: dict[str, str]) -> str:
    """A side as an agreement names it: the person's name, or the platform (for which
    a staff member speaks and signs, but which is the party bound)."""
    if side == roles.PLATFORM:
        return _("the platform")
    if side in names:
        return names[side]
    return {
        roles.CLAIMANT: _("the claimant"),
        roles.RESPONDENT: _("the respondent"),
        roles.PLATFORM: _("the platform"),
    }.get(side, side)


def parse_items(
    form: dict[str, str], sides: tuple[str, ...], errors: dict[str, str]
) -> list[dict[str, str]]:
    """The filled-in rows of the offer form, checked; errors name `item-N-field`.

    `sides` are the sides on this case; the platform may always be asked to act (it
    holds the accounts), even when a customer is the respondent.
    """
    allowed = (*sides, roles.PLATFORM) if roles.PLATFORM not in sides else sides
    items: list[dict[str, str]] = []
    for n in range(ROWS):
        key = f"item-{n}-"
        kind = form.get(key + "kind", "").strip()
        if not kind:
            continue
        if kind not in KINDS:
            errors[key + "kind"] = _("Choose what this item is.")
            continue
        item = {"kind": kind, "by": form.get(key + "by", "").strip()}
        if item["by"] not in allowed:
            errors[key + "by"] = _("Choose who does this.")
        if kind == "pay":
            item["to"] = form.get(key + "to", "").strip()
            if item["to"] not in allowed or item["to"] == item["by"]:
                errors[key + "to"] = _("Choose who is paid; it must be another side.")
            amount = form.get(key + "amount", "").strip().replace(",", "")
            try:
                value = Decimal(amount)
                if not value.is_finite() or value <= 0:
                    raise InvalidOperation
                item["amount"] = format(value.normalize(), "f")
            except InvalidOperation:
                errors[key + "amount"] = _("Enter the amount as a positive number, like 1250.50.")
            asset = form.get(key + "asset", "").strip().upper()
            if (
                not asset
                or len(asset) > 20
                or not asset.replace(".", "").replace("-", "").isalnum()
            ):
                errors[key + "asset"] = _("Enter the asset's symbol, like USDT or BTC.")
            item["asset"] = asset
        elif kind == "unfreeze":
            item["account"] = form.get(key + "account", "").strip()
            if not item["account"]:
                errors[key + "account"] = _("Name the account to unfreeze.")
        elif kind == "other":
            item["text"] = form.get(key + "text", "").replace("\r\n", "\n").strip()
            if not item["text"]:
                errors[key + "text"] = _("Describe the action.")
        for field in ("account", "text"):
            if len(item.get(field, "")) > TEXT_LIMIT:
                errors[key + field] = _("Keep this under %(n)s characters.", n=TEXT_LIMIT)
        items.append(item)
    if not items and not errors:
        errors["item-0-kind"] = _("An offer needs at least one item.")
    return items


def describe(item: dict[str, Any], names: dict[str, str]) -> str:
    """One item as a sentence, in the current language."""
    sentence = _describe(item, names)
    return sentence[:1].upper() + sentence[1:]


def _describe(item: dict[str, Any], names: dict[str, str]) -> str:
    by = side_label(item["by"], names)
    if item["kind"] == "pay":
        return _(
            "%(by)s pays %(amount)s %(asset)s to %(to)s.",
            by=by,
            amount=item["amount"],
            asset=item["asset"],
            to=side_label(item["to"], names),
        )
    if item["kind"] == "unfreeze":
        return _("%(by)s unfreezes the account %(account)s.", by=by, account=item["account"])
    if item["kind"] == "withdraw_claim":
        return _("%(by)s withdraws the claim and will not bring it again.", by=by)
    return _("%(by)s will: %(text)s", by=by, text=item["text"])
