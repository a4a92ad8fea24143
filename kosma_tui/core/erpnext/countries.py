"""ERPNext's country names (Frappe's ``geo/country_info.json``) to ISO 3166 alpha-2.

A Company in ERPNext links to a Country by its name ("Germany"); our Company
record keeps the ISO code ("DE"). The table covers every name Frappe ships
plus the newer spellings some sites use; ``iso_code`` also accepts a code.
Names a site added itself are looked up in its Country doctype (``code``).
"""

from __future__ import annotations

import unicodedata

_TABLE = """
Afghanistan=AF|Albania=AL|Algeria=DZ|American Samoa=AS|Andorra=AD|Angola=AO|Anguilla=AI
Antarctica=AQ|Antigua and Barbuda=AG|Argentina=AR|Armenia=AM|Aruba=AW|Australia=AU|Austria=AT
Azerbaijan=AZ|Bahamas=BS|Bahrain=BH|Bangladesh=BD|Barbados=BB|Belarus=BY|Belgium=BE|Belize=BZ
Benin=BJ|Bermuda=BM|Bhutan=BT|Bolivia, Plurinational State of=BO
Bonaire, Sint Eustatius and Saba=BQ|Bosnia and Herzegovina=BA|Botswana=BW|Bouvet Island=BV
Brazil=BR|British Indian Ocean Territory=IO|Brunei Darussalam=BN|Bulgaria=BG|Burkina Faso=BF
Burundi=BI|Cambodia=KH|Cameroon=CM|Canada=CA|Cape Verde=CV|Cayman Islands=KY
Central African Republic=CF|Chad=TD|Chile=CL|China=CN|Christmas Island=CX
Cocos (Keeling) Islands=CC|Colombia=CO|Comoros=KM|Congo=CG
Congo, The Democratic Republic of the=CD|Cook Islands=CK|Costa Rica=CR|Croatia=HR|Cuba=CU
Curaçao=CW|Cyprus=CY|Czech Republic=CZ|Denmark=DK|Djibouti=DJ|Dominica=DM
Dominican Republic=DO|Ecuador=EC|Egypt=EG|El Salvador=SV|Equatorial Guinea=GQ|Eritrea=ER
Estonia=EE|Ethiopia=ET|Falkland Islands (Malvinas)=FK|Faroe Islands=FO|Fiji=FJ|Finland=FI
France=FR|French Guiana=GF|French Polynesia=PF|French Southern Territories=TF|Gabon=GA
Gambia=GM|Georgia=GE|Germany=DE|Ghana=GH|Gibraltar=GI|Greece=GR|Greenland=GL|Grenada=GD
Guadeloupe=GP|Guam=GU|Guatemala=GT|Guernsey=GG|Guinea=GN|Guinea-Bissau=GW|Guyana=GY|Haiti=HT
Heard Island and McDonald Islands=HM|Holy See (Vatican City State)=VA|Honduras=HN
Hong Kong=HK|Hungary=HU|Iceland=IS|India=IN|Indonesia=ID|Iran=IR|Iraq=IQ|Ireland=IE
Isle of Man=IM|Israel=IL|Italy=IT|Ivory Coast=CI|Jamaica=JM|Japan=JP|Jersey=JE|Jordan=JO
Kazakhstan=KZ|Kenya=KE|Kiribati=KI|Korea, Democratic Peoples Republic of=KP
Korea, Republic of=KR|Kuwait=KW|Kyrgyzstan=KG|Lao Peoples Democratic Republic=LA|Latvia=LV
Lebanon=LB|Lesotho=LS|Liberia=LR|Libya=LY|Liechtenstein=LI|Lithuania=LT|Luxembourg=LU
Macao=MO|Macedonia=MK|Madagascar=MG|Malawi=MW|Malaysia=MY|Maldives=MV|Mali=ML|Malta=MT
Marshall Islands=MH|Martinique=MQ|Mauritania=MR|Mauritius=MU|Mayotte=YT|Mexico=MX
Micronesia, Federated States of=FM|Moldova, Republic of=MD|Monaco=MC|Mongolia=MN
Montenegro=ME|Montserrat=MS|Morocco=MA|Mozambique=MZ|Myanmar=MM|Namibia=NA|Nauru=NR
Nepal=NP|Netherlands=NL|New Caledonia=NC|New Zealand=NZ|Nicaragua=NI|Niger=NE|Nigeria=NG
Niue=NU|Norfolk Island=NF|Northern Mariana Islands=MP|Norway=NO|Oman=OM|Pakistan=PK|Palau=PW
Palestinian Territory, Occupied=PS|Panama=PA|Papua New Guinea=PG|Paraguay=PY|Peru=PE
Philippines=PH|Pitcairn=PN|Poland=PL|Portugal=PT|Puerto Rico=PR|Qatar=QA|Romania=RO
Russian Federation=RU|Rwanda=RW|Réunion=RE|Saint Barthélemy=BL
Saint Helena, Ascension and Tristan da Cunha=SH|Saint Kitts and Nevis=KN|Saint Lucia=LC
Saint Martin (French part)=MF|Saint Pierre and Miquelon=PM
Saint Vincent and the Grenadines=VC|Samoa=WS|San Marino=SM|Sao Tome and Principe=ST
Saudi Arabia=SA|Senegal=SN|Serbia=RS|Seychelles=SC|Sierra Leone=SL|Singapore=SG
Sint Maarten (Dutch part)=SX|Slovakia=SK|Slovenia=SI|Solomon Islands=SB|Somalia=SO
South Africa=ZA|South Georgia and the South Sandwich Islands=GS|South Sudan=SS|Spain=ES
Sri Lanka=LK|Sudan=SD|Suriname=SR|Svalbard and Jan Mayen=SJ|Swaziland=SZ|Sweden=SE
Switzerland=CH|Syria=SY|Taiwan=TW|Tajikistan=TJ|Tanzania=TZ|Thailand=TH|Timor-Leste=TL
Togo=TG|Tokelau=TK|Tonga=TO|Trinidad and Tobago=TT|Tunisia=TN|Turkey=TR|Turkmenistan=TM
Turks and Caicos Islands=TC|Tuvalu=TV|Uganda=UG|Ukraine=UA|United Arab Emirates=AE
United Kingdom=GB|United States=US|United States Minor Outlying Islands=UM|Uruguay=UY
Uzbekistan=UZ|Vanuatu=VU|Venezuela, Bolivarian Republic of=VE|Vietnam=VN
Virgin Islands, British=VG|Virgin Islands, U.S.=VI|Wallis and Futuna=WF|Western Sahara=EH
Yemen=YE|Zambia=ZM|Zimbabwe=ZW|Åland Islands=AX
Czechia=CZ|North Macedonia=MK|Viet Nam=VN|Türkiye=TR|Eswatini=SZ|Côte d'Ivoire=CI
Cabo Verde=CV|Moldova=MD|Bolivia=BO|Venezuela=VE|South Korea=KR|North Korea=KP|Russia=RU
Laos=LA|Brunei=BN|Macau=MO|Palestine=PS|Vatican City=VA|Great Britain=GB
United States of America=US|Iran, Islamic Republic of=IR|Syrian Arab Republic=SY
Tanzania, United Republic of=TZ|Taiwan, Province of China=TW|Micronesia=FM
"""


def _key(name: str) -> str:
    """Case, accents, apostrophes and spacing do not matter."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return " ".join(text.replace("'", "").replace("’", "").lower().split())


COUNTRY_CODES: dict[str, str] = {
    _key(name): code
    for line in _TABLE.strip().splitlines()
    for name, code in (pair.rsplit("=", 1) for pair in line.split("|"))
}


def iso_code(country: str, site_codes: dict[str, str] | None = None) -> str | None:
    """The ISO code for an ERPNext country name, or None when unknown.

    ``site_codes`` maps the site's own Country names to their ``code`` field.
    """
    if not country or not country.strip():
        return None
    from kosma_tui.core.validation import ISO_COUNTRIES

    key = _key(country)
    code = COUNTRY_CODES.get(key)
    if code is None and site_codes:
        code = next((c.upper() for n, c in site_codes.items() if _key(n) == key and c), None)
    if code is None and len(country.strip()) == 2:
        code = country.strip().upper()
    return code if code in ISO_COUNTRIES else None
