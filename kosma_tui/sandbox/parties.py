"""Counterparties of Demo Bank transactions.

Names and references come in several scripts (Latin with diacritics, Greek,
Cyrillic, CJK, Arabic) and some carry bracket characters that a careless
terminal UI would read as markup (``[bold]ACME[/]``): bank data is shown
verbatim by a correct client.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from kosma_tui.sandbox.banks import iban

INVOICE = ("RE-{yyyy}-{n:05d}", "Rechnung Nr. {n}", "Invoice [{n}] – thank you")


@dataclass(frozen=True)
class Party:
    name: str
    type: str  # CREDIT | DEBIT
    method: str  # TRANSFER | DIRECT_DEBIT | INSTANT | UNKNOWN
    low: int  # amount range in minor units: [low, low + span)
    span: int
    references: tuple[str, ...]
    mandate: str | None = None
    account: dict[str, Any] = field(default_factory=dict)


def _party(
    name: str,
    kind: str,
    low: int,
    high: int,
    references: tuple[str, ...],
    method: str | None = None,
) -> Party:
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
    number = f"{int.from_bytes(digest, 'big') % 10**10:010d}"
    bank_code = f"7777{int.from_bytes(digest[:2], 'big') % 10_000:04d}"
    direct_debit = kind == "debit-direct"
    mandate = f"MNDT-{digest[:4].hex().upper()}" if direct_debit else None
    return Party(
        name=name,
        type="CREDIT" if kind == "credit" else "DEBIT",
        method=method or ("DIRECT_DEBIT" if direct_debit else "TRANSFER"),
        low=low,
        span=high - low,
        references=references,
        mandate=mandate,
        account={
            "holder_name": name,
            "iban": iban("DE", bank_code + number),
            "account_number": number,
            "bic": f"DEMODE{digest[2] % 90 + 10:02d}XXX",
        },
    )


PARTIES: tuple[Party, ...] = (
    _party("Mustermann GmbH", "credit", 250_000, 480_000,
           ("Gehalt {mm}/{yyyy}", "Lohn/Gehalt {mm}.{yyyy} PersNr {n}")),
    _party("株式会社サンプル商事", "credit", 80_000, 900_000,
           ("請求書 {n} のお支払い", "Invoice {n}"), "INSTANT"),
    _party("Müller & Söhne KG", "credit", 5_000, 500_000, INVOICE),
    _party("Δημήτρης Παπαδόπουλος", "credit", 2_000, 90_000,
           ("Πληρωμή τιμολογίου {n}", "Ενοίκιο {mm}/{yyyy}")),
    _party("ООО «Ромашка»", "credit", 10_000, 750_000,
           ("Оплата по счёту № {n}", "Возврат [{n}]")),
    _party("北京示例贸易有限公司", "credit", 50_000, 1_200_000,
           ("付款 {n}", "发票 {yyyy}-{n}")),
    _party("شركة المثال للتجارة", "credit", 20_000, 400_000,
           ("دفعة رقم {n}", "فاتورة {n}")),
    _party("[bold]ACME[/] Corp.", "credit", 1_000, 250_000,
           ("[bold]URGENT[/bold] RE-{n}", *INVOICE), "INSTANT"),
    _party("Zoë Ångström", "credit", 1_500, 30_000,
           ("Danke für's Essen", "Geschenk [{n}]"), "INSTANT"),
    _party("Bürobedarf Schäfer e.K.", "debit", 1_200, 60_000, INVOICE),
    _party("[red]Lieferant[/red] GmbH & Co. KG", "debit", 10_000, 800_000,
           ("Kd-Nr. {n} [Rechnung]", *INVOICE)),
    _party("Žluťoučký kůň s.r.o.", "debit", 5_000, 200_000, ("Faktura {n}", *INVOICE)),
    _party("Ιωάννου Α.Ε.", "debit", 3_000, 150_000, ("Τιμολόγιο {n}",)),
    _party("Иванов и партнёры", "debit", 25_000, 400_000, ("Счёт {n} от {dd}.{mm}.{yyyy}",)),
    _party("Hausverwaltung Schmidt", "debit", 95_000, 160_000,
           ("Miete {mm}/{yyyy} [Whg. 3]", "Nebenkosten {yyyy}")),
    _party("Stadtwerke München", "debit-direct", 3_000, 25_000,
           ("Abschlag Strom {mm}/{yyyy}", "Vertragskonto {n}")),
    _party("Telekom Beispiel AG", "debit-direct", 2_999, 12_000,
           ("Rechnung {mm}/{yyyy} Kundennr. {n}",)),
    _party("Finanzamt Musterstadt", "debit-direct", 10_000, 900_000,
           ("USt-VZ {mm}/{yyyy}", "Steuernr. 123/456/{n}")),
    _party("AOK Beispiel", "debit-direct", 20_000, 120_000, ("Beitrag {mm}/{yyyy}",)),
    _party("Kiosk am Markt", "debit", 150, 2_500, ("card 4711 {dd}.{mm}", "Kartenzahlung"),
           "UNKNOWN"),
    _party("Café Über", "debit", 250, 4_500, ("card 4711 {dd}.{mm}", "Bewirtung {n}"),
           "UNKNOWN"),
    _party("ラーメン一番", "debit", 900, 3_500, ("カード決済 {n}",), "UNKNOWN"),
    _party("Apotheke zum Löwen", "debit", 500, 9_000, ("Kartenzahlung {dd}.{mm}.{yyyy}",),
           "UNKNOWN"),
    _party("O'Brien & Co. Ltd.", "debit", 4_000, 300_000, ("Inv. {n} <net 30>", *INVOICE)),
)
