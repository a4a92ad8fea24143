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

# References are %-formats over a transaction's n (0-99999) and its day (yyyy, mm, dd).
INVOICE = ("RE-%(yyyy)d-%(n)05d", "Rechnung Nr. %(n)d", "Invoice [%(n)d] – thank you")


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
    _party(
        "Mustermann GmbH",
        "credit",
        250_000,
        480_000,
        ("Gehalt %(mm)02d/%(yyyy)d", "Lohn/Gehalt %(mm)02d.%(yyyy)d PersNr %(n)d"),
    ),
    _party(
        "株式会社サンプル商事",
        "credit",
        80_000,
        900_000,
        ("請求書 %(n)d のお支払い", "Invoice %(n)d"),
        "INSTANT",
    ),
    _party("Müller & Söhne KG", "credit", 5_000, 500_000, INVOICE),
    _party(
        "Δημήτρης Παπαδόπουλος",
        "credit",
        2_000,
        90_000,
        ("Πληρωμή τιμολογίου %(n)d", "Ενοίκιο %(mm)02d/%(yyyy)d"),
    ),
    _party(
        "ООО «Ромашка»", "credit", 10_000, 750_000, ("Оплата по счёту № %(n)d", "Возврат [%(n)d]")
    ),
    _party(
        "北京示例贸易有限公司", "credit", 50_000, 1_200_000, ("付款 %(n)d", "发票 %(yyyy)d-%(n)d")
    ),
    _party("شركة المثال للتجارة", "credit", 20_000, 400_000, ("دفعة رقم %(n)d", "فاتورة %(n)d")),
    _party(
        "[bold]ACME[/] Corp.",
        "credit",
        1_000,
        250_000,
        ("[bold]URGENT[/bold] RE-%(n)d", *INVOICE),
        "INSTANT",
    ),
    _party(
        "Zoë Ångström",
        "credit",
        1_500,
        30_000,
        ("Danke für's Essen", "Geschenk [%(n)d]"),
        "INSTANT",
    ),
    _party("Bürobedarf Schäfer e.K.", "debit", 1_200, 60_000, INVOICE),
    _party(
        "[red]Lieferant[/red] GmbH & Co. KG",
        "debit",
        10_000,
        800_000,
        ("Kd-Nr. %(n)d [Rechnung]", *INVOICE),
    ),
    _party("Žluťoučký kůň s.r.o.", "debit", 5_000, 200_000, ("Faktura %(n)d", *INVOICE)),
    _party("Ιωάννου Α.Ε.", "debit", 3_000, 150_000, ("Τιμολόγιο %(n)d",)),
    _party(
        "Иванов и партнёры", "debit", 25_000, 400_000, ("Счёт %(n)d от %(dd)02d.%(mm)02d.%(yyyy)d",)
    ),
    _party(
        "Hausverwaltung Schmidt",
        "debit",
        95_000,
        160_000,
        ("Miete %(mm)02d/%(yyyy)d [Whg. 3]", "Nebenkosten %(yyyy)d"),
    ),
    _party(
        "Stadtwerke München",
        "debit-direct",
        3_000,
        25_000,
        ("Abschlag Strom %(mm)02d/%(yyyy)d", "Vertragskonto %(n)d"),
    ),
    _party(
        "Telekom Beispiel AG",
        "debit-direct",
        2_999,
        12_000,
        ("Rechnung %(mm)02d/%(yyyy)d Kundennr. %(n)d",),
    ),
    _party(
        "Finanzamt Musterstadt",
        "debit-direct",
        10_000,
        900_000,
        ("USt-VZ %(mm)02d/%(yyyy)d", "Steuernr. 123/456/%(n)d"),
    ),
    _party("AOK Beispiel", "debit-direct", 20_000, 120_000, ("Beitrag %(mm)02d/%(yyyy)d",)),
    _party(
        "Kiosk am Markt",
        "debit",
        150,
        2_500,
        ("card 4711 %(dd)02d.%(mm)02d", "Kartenzahlung"),
        "UNKNOWN",
    ),
    _party(
        "Café Über",
        "debit",
        250,
        4_500,
        ("card 4711 %(dd)02d.%(mm)02d", "Bewirtung %(n)d"),
        "UNKNOWN",
    ),
    _party("ラーメン一番", "debit", 900, 3_500, ("カード決済 %(n)d",), "UNKNOWN"),
    _party(
        "Apotheke zum Löwen",
        "debit",
        500,
        9_000,
        ("Kartenzahlung %(dd)02d.%(mm)02d.%(yyyy)d",),
        "UNKNOWN",
    ),
    _party("O'Brien & Co. Ltd.", "debit", 4_000, 300_000, ("Inv. %(n)d <net 30>", *INVOICE)),
)
