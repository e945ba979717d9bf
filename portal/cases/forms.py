"""Reading a step's form: text, a due date, an amount; each error kept next to its field.

A step's form reader (`portal.cases.steps`) asks one `StepForm` for each field; when it
is done, `check` raises `FormInvalid` naming what to fix next to every field at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from portal.errors import FormInvalid
from portal.i18n import _

TEXT_LIMIT = 20_000


@dataclass
class StepForm:
    """The fields a person sent for one step, the case as the check saw it, and the time."""

    values: Mapping[str, str]
    case: Mapping[str, Any]
    at: datetime
    errors: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    def text(self, name: str, message: str, required: bool = True) -> str:
        value = self.get(name).replace("\r\n", "\n").strip()
        if required and not value:
            self.errors[name] = message
        elif len(value) > TEXT_LIMIT:
            self.errors[name] = _("Keep this under %(n)s characters.", n=TEXT_LIMIT)
        return value

    def due(self, name: str) -> datetime:
        """A due date: a day after today at the earliest, 60 days at the most."""
        try:
            day = date.fromisoformat(self.get(name).strip())
        except ValueError:
            self.errors[name] = _("Enter the due date, like 2026-12-01.")
            return self.at
        due = datetime(day.year, day.month, day.day, 23, 59, tzinfo=UTC)
        if due <= self.at:
            self.errors[name] = _("The due date must be after today.")
        elif due > self.at + timedelta(days=60):
            self.errors[name] = _("Give at most 60 days.")
        return due

    def amount(self) -> tuple[str, str]:
        """The `amount` and `asset` fields: a positive number and an asset's symbol."""
        amount = self.get("amount").strip().replace(",", "")
        asset = self.get("asset").strip().upper()
        try:
            value = Decimal(amount)
            if not value.is_finite() or value <= 0:
                raise InvalidOperation
            amount = format(value.normalize(), "f")
        except InvalidOperation:
            self.errors["amount"] = _("Enter the amount as a positive number, like 1250.50.")
        if not asset or len(asset) > 20 or not asset.replace(".", "").replace("-", "").isalnum():
            self.errors["asset"] = _("Enter the asset's symbol, like USDT or BTC.")
        return amount, asset

    def check(self) -> None:
        if self.errors:
            raise FormInvalid(self.errors)
