"""The linking flow: forms, steps and what each submission leads to.

A session (a dict in the state file) remembers which step it is at:
``country -> bank -> method -> login -> (otp | processing) -> finished``, or
one of the terminal ``aborted`` / ``exception``. ``render`` turns it into a
protocol Step; ``submit`` and ``poll`` move it on. The login and OTP steps
are keyed: each time one of them is entered it gets a fresh RSA key.
"""

from __future__ import annotations

from typing import Any

from kosma_tui.sandbox.banks import BANKS, COUNTRIES, INTERFACES, Bank, interface_label
from kosma_tui.sandbox.crypto import STEP_KEYS
from kosma_tui.sandbox.errors import PortalFailure, invalid
from kosma_tui.sandbox.scenarios import DECOUPLED_POLLS, OTP, PASSWORD, scenario

POLL_AFTER_MS = 500
OTP_ATTEMPTS = 3
KEYED_STEPS = ("login", "otp")
FORM_IDS = {
    "country": "select-country",
    "bank": "select-bank",
    "method": "select-method",
    "login": "login",
    "otp": "otp",
}

_TERMINAL_ERRORS = {
    "USER.ACCESS_DENIED.CREDENTIALS": "The bank refused the login: the username or password is "
    "wrong.",
    "USER.ACCESS_DENIED.BLOCKED": "The bank blocked the login after three wrong OTPs.",
    "USER.ABORTED": "The login was cancelled in the banking app.",
    "MAINTENANCE": "The bank is in maintenance; try again later.",
    "TECHNICAL": "The bank had a technical error; try again later.",
}


def new_session_fields(country: str | None) -> dict[str, Any]:
    return {
        "step": "bank" if country else "country",
        "country": country,
        "bank": None,
        "interface": None,
        "username": None,
        "otp_failures": 0,
        "polls": 0,
        "error": None,
        "key_id": None,
        "consent_id": None,
    }


def session_bank(session: dict[str, Any]) -> Bank:
    return BANKS[session["country"]][session["bank"]]


# ---- forms ---------------------------------------------------------------


def _text(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def _input(
    key: str,
    label: str,
    *,
    password: bool = False,
    placeholder: str = "",
    min_length: int | None = 1,
    max_length: int | None = 64,
    numeric: bool = False,
) -> dict[str, Any]:
    return {
        "type": "input",
        "key": key,
        "label": label,
        "password": password,
        "placeholder": placeholder,
        "validator": {
            "required": True,
            "min_length": min_length,
            "max_length": max_length,
            "numeric": numeric,
        },
    }


def _choice(key: str, label: str, options: list[tuple[str, str, str]]) -> dict[str, Any]:
    return {
        "type": "choice",
        "key": key,
        "label": label,
        "options": [{"value": v, "label": lab, "description": d} for v, lab, d in options],
    }


def form(session: dict[str, Any]) -> dict[str, Any] | None:
    step = session["step"]
    if step == "country":
        elements = [
            _text("Choose the country of your bank."),
            _choice(
                "country_code",
                "Country",
                [(c.code, c.name, f"{len(BANKS[c.code])} banks") for c in COUNTRIES.values()],
            ),
        ]
    elif step == "bank":
        country = COUNTRIES[session["country"]]
        banks = BANKS[country.code].values()
        elements = [
            _text(f"Choose your bank in {country.name}."),
            _choice("bank_code", "Bank", [(b.code, b.name, f"{b.code} · {b.bic}") for b in banks]),
        ]
    elif step == "method":
        bank = session_bank(session)
        elements = [
            _text(f"How do you log in to {bank.name}?"),
            _choice(
                "interface",
                "Login method",
                [(value, interface_label(bank, value), d) for value, _s, d in INTERFACES],
            ),
        ]
    elif step == "login":
        bank = session_bank(session)
        elements = [
            _text(f"Log in to {bank.name} with your online banking credentials."),
            _text(
                "Demo Bank test users: embedded, decoupled, decoupled-abort, wrong, invalid, "
                "bank-maintenance, technical, slow, invalid-transactions-timerange, "
                "generate-new-accounts{N}, many-transactions{N}, late-booking. Password 12345."
            ),
            _input("LOGINNAME", "Username", placeholder="embedded"),
            _input("USER_PASSWORD", "Password", password=True),
        ]
    elif step == "otp":
        elements = [
            _text("Enter the one-time password (OTP) your bank sent you. Demo Bank: 12345."),
            _input("TAN", "OTP", password=True, min_length=4, max_length=8, numeric=True),
        ]
    elif step == "processing":
        bank = session_bank(session)
        return {
            "form_identifier": "decoupled",
            "elements": [_text(f"Approve the login to {bank.name} in your banking app.")],
        }
    else:
        return None
    return {"form_identifier": FORM_IDS[step], "elements": elements}


# ---- steps ---------------------------------------------------------------

_STATES = {
    "processing": "PROCESSING",
    "finished": "FINISHED",
    "aborted": "ABORTED",
    "exception": "EXCEPTION",
}


def render(session: dict[str, Any]) -> dict[str, Any]:
    """The session's current Step; may issue a key (the caller saves the session)."""
    step = session["step"]
    key = None
    if step in KEYED_STEPS:
        pem = STEP_KEYS.public_pem(session["key_id"]) if session["key_id"] else None
        if pem is None:  # new step, or a step entered in another process
            session["key_id"], pem = STEP_KEYS.issue()
        key = pem
    return {
        "state": _STATES.get(step, "CONSUMER_INPUT_NEEDED"),
        "form": form(session),
        "key": key,
        "error": session["error"],
        "poll_after_ms": POLL_AFTER_MS if step == "processing" else None,
    }


def flow_state(session: dict[str, Any]) -> str:
    return _STATES.get(session["step"], "CONSUMER_INPUT_NEEDED")


def _enter(session: dict[str, Any], step: str, error: dict[str, str] | None = None) -> None:
    STEP_KEYS.discard(session["key_id"])
    session["key_id"] = None
    session["step"] = step
    session["error"] = error


def _terminal(session: dict[str, Any], code: str) -> None:
    step = "aborted" if code == "USER.ABORTED" else "exception"
    _enter(session, step, {"code": code, "message": _TERMINAL_ERRORS[code]})


def poll(session: dict[str, Any]) -> None:
    """A get_flow_step: a decoupled approval advances with each poll."""
    if session["step"] != "processing":
        return
    session["polls"] += 1
    if session["polls"] >= DECOUPLED_POLLS:
        if scenario(session["username"]).login == "decoupled-abort":
            _terminal(session, "USER.ABORTED")
        else:
            _enter(session, "finished")


def _validate(element: dict[str, Any], values: dict[str, str]) -> str:
    key = element["key"]
    value = values.get(key)
    if element["type"] == "choice":
        allowed = {o["value"] for o in element["options"]}
        if value is None or value not in allowed:
            raise invalid(key, f"Choose one of the offered options for '{key}'.")
        return value
    rule = element["validator"]
    value = value if value is not None else ""
    if rule["required"] and not value:
        raise invalid(key, f"'{element['label']}' is required.")
    if rule["min_length"] is not None and value and len(value) < rule["min_length"]:
        raise invalid(key, f"'{element['label']}' needs at least {rule['min_length']} characters.")
    if rule["max_length"] is not None and len(value) > rule["max_length"]:
        raise invalid(key, f"'{element['label']}' takes at most {rule['max_length']} characters.")
    if rule["numeric"] and value and not value.isdigit():
        raise invalid(key, f"'{element['label']}' takes digits only.")
    return value


def check_values(session: dict[str, Any], values: dict[str, str]) -> dict[str, str]:
    """The submitted values checked against the current form (VALIDATION otherwise)."""
    current = form(session)
    assert current is not None
    fields = [e for e in current["elements"] if e["type"] != "text"]
    known = {e["key"] for e in fields}
    for key in values:
        if key not in known:
            raise invalid(key, f"The form '{current['form_identifier']}' has no field '{key}'.")
    return {e["key"]: _validate(e, values) for e in fields}


def submit(session: dict[str, Any], values: dict[str, str]) -> None:
    """Move the session on with checked values of its current form."""
    step = session["step"]
    if step == "country":
        session["country"] = values["country_code"]
        _enter(session, "bank")
    elif step == "bank":
        session["bank"] = values["bank_code"]
        _enter(session, "method")
    elif step == "method":
        session["interface"] = values["interface"]
        _enter(session, "login")
    elif step == "login":
        _login(session, values["LOGINNAME"], values["USER_PASSWORD"])
    elif step == "otp":
        _otp(session, values["TAN"])


def _login(session: dict[str, Any], username: str, password: str) -> None:
    plan = scenario(username)
    outcome = plan.login
    if outcome == "invalid":
        message = plan.problem or "The bank does not know this username. Check it and try again."
        _enter(session, "login", {"code": "VALIDATION", "message": message})
        return
    session["username"] = plan.username
    fixed_failures = {
        "wrong": "USER.ACCESS_DENIED.CREDENTIALS",
        "maintenance": "MAINTENANCE",
        "technical": "TECHNICAL",
    }
    if outcome in fixed_failures:
        _terminal(session, fixed_failures[outcome])
    elif password != PASSWORD:
        _terminal(session, "USER.ACCESS_DENIED.CREDENTIALS")
    elif outcome == "otp":
        _enter(session, "otp")
    elif outcome in ("decoupled", "decoupled-abort"):
        session["polls"] = 0
        _enter(session, "processing")
    else:
        _enter(session, "finished")


def _otp(session: dict[str, Any], otp: str) -> None:
    if otp == OTP:
        _enter(session, "finished")
        return
    session["otp_failures"] += 1
    left = OTP_ATTEMPTS - session["otp_failures"]
    if left <= 0:
        _terminal(session, "USER.ACCESS_DENIED.BLOCKED")
        return
    attempts = "1 attempt" if left == 1 else f"{left} attempts"
    _enter(
        session,
        "otp",
        {"code": "VALIDATION", "message": f"The OTP was not accepted. {attempts} left."},
    )


def expects_input(session: dict[str, Any]) -> bool:
    return session["step"] in FORM_IDS


def refuse_submission(session: dict[str, Any]) -> PortalFailure:
    state = flow_state(session)
    return invalid("form_identifier", f"The flow expects no form now (it is {state}).")
