"""The product catalogue of the Bestellsystem (from the ``products`` table, never from templates),
prices in EUR and the totals of a list of lines with VAT."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import format_currency
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Product, ProductKind, ProductLine
from .errors import NotFound

VAT_RATE = Decimal("0.19")
TERMS = (12, 24, 36)
MAX_UMS_PACKAGES = 500
MAX_VOICE_CHANNELS = 300

KIND_LABELS = {
    ProductKind.SIP_BUNDLE: _l("SIP-Trunk-Bundle"),
    ProductKind.SIP_TRUNK: _l("IPfonie SIP-Trunks"),
    ProductKind.VOICE_CHANNELS: _l("Voice channels"),
    ProductKind.UMS_PACKAGE: _l("IPfonie Tarif-Optionen"),
}


def money(cents: int | Decimal) -> str:
    """A net or gross amount in German (or English) currency format: „4,90 €“."""
    return format_currency(Decimal(cents) / 100, "EUR")


def products(session: Session, line: ProductLine, kinds: tuple[ProductKind, ...] | None = None) -> list[Product]:
    query = select(Product).where(Product.active.is_(True), Product.product_line == line)
    if kinds:
        query = query.where(Product.kind.in_(kinds))
    return list(session.scalars(query.order_by(Product.sort_order, Product.name)))


def product(session: Session, code: str, line: ProductLine) -> Product:
    """An active product of the customer's product line; any other code is 404."""
    code = str(code)
    if not re.fullmatch(r"[a-z0-9-]{1,40}", code):  # nothing else names a product (and no NUL reaches SQL)
        raise NotFound(_l("This product does not exist or cannot be ordered."))
    found = session.scalar(select(Product).where(Product.code == code, Product.active.is_(True)))
    if found is None or found.product_line != line:
        raise NotFound(_l("This product does not exist or cannot be ordered."))
    return found


def product_of_kind(session: Session, line: ProductLine, kind: ProductKind) -> Product | None:
    found = products(session, line, (kind,))
    return found[0] if found else None


@dataclass(frozen=True)
class Totals:
    monthly_net: int
    one_off_net: int

    @property
    def monthly_vat(self) -> int:
        return int((Decimal(self.monthly_net) * VAT_RATE).quantize(Decimal(1)))

    @property
    def one_off_vat(self) -> int:
        return int((Decimal(self.one_off_net) * VAT_RATE).quantize(Decimal(1)))

    @property
    def monthly_gross(self) -> int:
        return self.monthly_net + self.monthly_vat

    @property
    def one_off_gross(self) -> int:
        return self.one_off_net + self.one_off_vat

    @property
    def vat_percent(self) -> int:
        return int(VAT_RATE * 100)


def totals(lines) -> Totals:
    """Sum of ``quantity × price`` over lines with ``monthly_cents``/``one_off_cents`` per unit."""
    return Totals(sum(line.quantity * line.monthly_cents for line in lines),
                  sum(line.quantity * line.one_off_cents for line in lines))
