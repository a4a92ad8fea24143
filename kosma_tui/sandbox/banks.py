"""Countries, banks and login methods of the Demo Bank portal.

Every bank here is fictional (names, codes and BICs are made up; the
``TEST`` BICs are the Demo Banks). All banks behave alike: the username
typed at the login step picks the scenario, the bank only shapes the bank
data, the IBANs and the currency.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Country:
    code: str
    name: str
    currency: str


@dataclass(frozen=True)
class Bank:
    country: str
    name: str
    code: str
    bic: str
    branch: str | None = None  # national branch code (sort code, guichet, oficina)


COUNTRIES: dict[str, Country] = {
    c.code: c
    for c in (
        Country("DE", "Deutschland", "EUR"),
        Country("AT", "Österreich", "EUR"),
        Country("NL", "Nederland", "EUR"),
        Country("GB", "United Kingdom", "GBP"),
        Country("FR", "France", "EUR"),
        Country("ES", "España", "EUR"),
    )
}

_BANKS: tuple[Bank, ...] = (
    Bank("DE", "Demo Bank", "88888888", "TESTDE10XXX"),
    Bank("DE", "Demo Sparkasse", "88888889", "TESTDE11XXX"),
    Bank("DE", "Sparkasse Musterstadt", "88810001", "SPMUDE31XXX"),
    Bank("DE", "Volksbank Beispieltal eG", "88820002", "VBBTDE61XXX"),
    Bank("DE", "Hansebank Nord", "88830003", "HANODE21XXX"),
    Bank("DE", "Bayerische Musterbank", "88840004", "BYMUDEMMXXX"),
    Bank("DE", "Rheinische Handelsbank", "88850005", "RHHBDEDDXXX"),
    Bank("DE", "Sparda-Bank Musterland", "88860006", "SPMLDE71XXX"),
    Bank("DE", "PSD Bank Beispielhausen", "88870007", "PSDBDE81XXX"),
    Bank("DE", "Raiffeisenbank Wiesengrund eG", "88880008", "RBWGDE71XXX"),
    Bank("DE", "Kreissparkasse Talheim", "88890009", "KSTADE61XXX"),
    Bank("DE", "Berliner Kontorbank", "88810010", "BKONDEBBXXX"),
    Bank("DE", "Frankfurter Privatbank", "88820011", "FPRBDEFFXXX"),
    Bank("DE", "Stadtsparkasse Lindenau", "88830012", "SSLIDE31XXX"),
    Bank("DE", "Ostsee-Sparkasse Hafenstadt", "88840013", "OSHSDE21XXX"),
    Bank("DE", "Volks- und Raiffeisenbank Mittelgau", "88850014", "VRMGDE51XXX"),
    Bank("DE", "Grüne Zukunftsbank", "88860015", "GZUKDE41XXX"),
    Bank("DE", "Direktbank Online", "88870016", "DIONDE71XXX"),
    Bank("DE", "Landesbank Mustersachsen", "88880017", "LBMSDE8LXXX"),
    Bank("DE", "Schwäbische Bank Beispiel", "88890018", "SBBEDE61XXX"),
    Bank("DE", "Nordfriesische Genossenschaftsbank eG", "88810019", "NFGBDE21XXX"),
    Bank("DE", "Sparkasse Köln-Beispiel", "88820020", "SPKBDEDDXXX"),
    Bank("DE", "Münchner Bürgerbank", "88830021", "MBUBDEMMXXX"),
    Bank("DE", "Neobank Digital", "88840022", "NEODDEB2XXX"),
    Bank("AT", "Demo Bank Österreich", "88888", "TESTAT10XXX"),
    Bank("AT", "Alpenbank Tirol", "88801", "ALTIAT2IXXX"),
    Bank("AT", "Wiener Musterkasse", "88802", "WMUKATWWXXX"),
    Bank("NL", "Demo Bank Nederland", "TEST", "TESTNL10XXX"),
    Bank("NL", "Polderbank", "PLDR", "PLDRNL2AXXX"),
    Bank("NL", "Grachtenbank", "GRCH", "GRCHNL2AXXX"),
    Bank("GB", "Demo Bank UK", "888888", "TESTGB10XXX", "888888"),
    Bank("GB", "Thames Mutual", "880001", "THMUGB2LXXX", "880001"),
    Bank("GB", "Highland Savings Bank", "880002", "HISBGB21XXX", "880002"),
    Bank("FR", "Banque Démo", "88888", "TESTFR10XXX", "00001"),
    Bank("FR", "Crédit Exemple", "88801", "CREXFRPPXXX", "00042"),
    Bank("ES", "Banco Demo", "8888", "TESTES10XXX", "0001"),
    Bank("ES", "Caja Ejemplo", "8801", "CAEJESMMXXX", "0042"),
)

BANKS: dict[str, dict[str, Bank]] = {}
for _bank in _BANKS:
    BANKS.setdefault(_bank.country, {})[_bank.code] = _bank

# (option value, label suffix, description): offered for every bank.
INTERFACES: tuple[tuple[str, str, str], ...] = (
    ("PSD2", "PSD2", "The bank's PSD2 access-to-account interface"),
    ("ONLINE_BANKING", "Online Banking", "Login with the online banking credentials"),
)


def interface_label(bank: Bank, value: str) -> str:
    for option, suffix, _description in INTERFACES:
        if option == value:
            return f"{_short_name(bank)} {suffix}"
    raise KeyError(value)


def _short_name(bank: Bank) -> str:
    # "Demo Bank Österreich PSD2" reads oddly; every Demo Bank offers "Demo Bank PSD2".
    return "Demo Bank" if bank.bic.startswith("TEST") and "Demo" in bank.name else bank.name


# ---- IBANs ---------------------------------------------------------------


def _mod97(digits: str) -> int:
    return int(digits) % 97


def _numeric(text: str) -> str:
    return "".join(str(int(ch, 36)) for ch in text)


def iban(country: str, bban: str) -> str:
    check = 98 - _mod97(_numeric(bban + country + "00"))
    return f"{country}{check:02d}{bban}"


def _rib_key(bank: str, branch: str, account: str) -> str:
    return f"{97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97:02d}"


def _es_digit(digits: str) -> str:
    weights = (1, 2, 4, 8, 5, 10, 9, 7, 3, 6)
    value = 11 - sum(int(d) * w for d, w in zip(digits.zfill(10), weights, strict=True)) % 11
    return {10: "1", 11: "0"}.get(value, str(value))


def account_identifiers(bank: Bank, number: int) -> tuple[str, str]:
    """(IBAN, national account number) of account ``number`` (< 10**10) at ``bank``."""
    if bank.country == "DE":
        account = f"{number:010d}"
        return iban("DE", bank.code + account), account
    if bank.country == "AT":
        account = f"{number % 10**11:011d}"
        return iban("AT", bank.code + account), account
    if bank.country == "NL":
        account = f"{number:010d}"
        return iban("NL", bank.code + account), account
    if bank.country == "GB":
        account = f"{number % 10**8:08d}"
        return iban("GB", bank.bic[:4] + (bank.branch or "") + account), account
    if bank.country == "FR":
        account = f"{number:011d}"
        branch = bank.branch or "00001"
        key = _rib_key(bank.code, branch, account)
        return iban("FR", bank.code + branch + account + key), account + key
    if bank.country == "ES":
        account = f"{number:010d}"
        branch = bank.branch or "0001"
        control = _es_digit(bank.code + branch) + _es_digit(account)
        return iban("ES", bank.code + branch + control + account), account
    raise ValueError(bank.country)
