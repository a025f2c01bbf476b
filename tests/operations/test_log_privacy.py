"""No national code, mobile number, one-time code or query string in any log line.

A production host (gunicorn, JSON logs at debug level, so the libraries' own lines are in
too) behind the nginx example; a person registers, logs in by national code, fails a
login, is looked up on /verify by national code, resets the password with the SMS code,
is searched for by a reviewer, and types a national code into a URL. Then every line of
every log is read: gunicorn's error and access logs, the application's, nginx's access and
error logs.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from urllib.parse import quote

import pytest

import helpers
import persian
from harness import AppHost, Balancer, Browser, csrf_token, hidden_fields, run_flask
from helpers import PASSWORD

pytestmark = pytest.mark.two_hosts
NEW_PASSWORD = "Tazeh-Ramz-1404"


@pytest.fixture(scope="module")
def site(fresh_database, processes, ports, tls_certificate, tmp_path_factory):
    import os

    folder = tmp_path_factory.mktemp("privacy")
    database = fresh_database("privacy")
    assert run_flask(database, folder / "documents", "init-db").returncode == 0
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "TEST_"))}
    environment.update(
        APP_ENV="production",
        SECRET_KEY=secrets.token_hex(32),
        DATABASE_URL=database,
        UPLOAD_DIR=str(folder / "documents"),
        SMS_BACKEND="log",
        SMS_LOG_FILE=str(folder / "sms.log"),
        SMS_DELIVER_IN_BACKGROUND="1",
        TRUSTED_PROXY_COUNT="1",
        FORWARDED_ALLOW_IPS="127.0.0.1",
        WORKERS="2",
        LOG_LEVEL="debug",
        IDENTITY_BACKEND_NONE_ACKNOWLEDGED="1",
        SMS_BACKEND_LOG_ACKNOWLEDGED="1",
    )
    host = AppHost("privacy-host", ports.take(), environment, processes)
    host.start_web()
    balancer = Balancer(
        processes, folder / "nginx", [host.port, host.port], ports.take(), ports.take(), tls_certificate
    )
    return host, balancer, folder


def sms_texts(folder, mobile: str) -> list[str]:
    path = folder / "sms.log"
    if not path.exists():
        return []
    return [
        entry["text"]
        for entry in map(json.loads, path.read_text(encoding="utf-8").splitlines())
        if entry["to"] == mobile
    ]


def next_sms(folder, mobile: str, seen: int, timeout: float = 30) -> str:
    """The first SMS to ``mobile`` after the ``seen`` ones already delivered."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        texts = sms_texts(folder, mobile)
        if len(texts) > seen:
            return texts[seen]
        time.sleep(0.2)
    pytest.fail(f"no new SMS to {mobile}")


def six_digit_code(text: str) -> str:
    found = re.search(r"(?<!\d)(\d{6})(?!\d)", persian.to_ascii_digits(text))
    assert found, text
    return found.group(1)


def reference_ids(visitor) -> dict:
    """Option values of the registration form's selects, read from the page as a browser would."""
    page = visitor.get("/officer/register").text

    def option(select: str, text: str) -> str:
        block = re.search(rf'<select[^>]*name="{select}".*?</select>', page, re.S).group(0)
        found = re.search(rf'<option[^>]*value="(\d+)"[^>]*>\s*{re.escape(text)}\s*</option>', block)
        return found.group(1) if found else re.findall(r'<option[^>]*value="(\d+)"', block)[0]

    return {
        "province": option("province", "اصفهان"),
        "city": option("city", "اصفهان"),
        "field_of_study": option("field_of_study", "مهندسی پزشکی"),
        "degree_level": option("degree_level", "کارشناسی"),
    }


def drive_everything(host, visitor: Browser, folder) -> dict:
    """The flows that carry personal data; returns the secrets that must not be logged."""
    number = secrets.randbelow(10**6)
    national_code = helpers.national_code(900_000 + number)
    mobile = f"0935{number:07d}"
    codes = []
    seen = 0
    person = {
        "national_code": national_code,
        "birth_date": "1370/05/21",
        "first_name": "مریم",
        "last_name": "احمدی",
        "father_name": "علی",
        "gender": "female",
        "id_card_number": "1234",
        "mobile": mobile,
        "phone": "",
        "email": "",
        "address": "اصفهان، خیابان چهارباغ، کوچه یکم، پلاک ۱۰",
        "postal_code": "8134567890",
        "district": "",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        **reference_ids(visitor),
    }

    # Registration (with the SMS code step, when registration has one).
    page = visitor.get("/officer/register")
    answer = visitor.post("/officer/register", {**person, "csrf_token": csrf_token(page.text)})
    assert answer.status == 303, answer  # to the form of the code sent by SMS
    confirm = answer.headers["Location"]
    answer = visitor.get(confirm)
    assert 'name="code"' in answer.text, answer
    codes.append(six_digit_code(next_sms(folder, mobile, seen)))
    answer = visitor.post(confirm, {**hidden_fields(answer.text), "code": codes[-1]})
    assert answer.status == 303, answer
    answer = visitor.get(answer.headers["Location"])
    user_code = re.search(r'id="user-code"[^>]*>\s*([^<\s]+)', answer.text)
    assert user_code, answer

    # Logging in by national code, a wrong password, logging out.
    page = visitor.get("/officer/login")
    wrong = visitor.post(
        "/officer/login",
        {"username": national_code, "password": "wrong-password-1", "csrf_token": csrf_token(page.text)},
    )
    assert wrong.status == 422, wrong
    page = visitor.get("/officer/login")
    assert (
        visitor.post(
            "/officer/login", {"username": national_code, "password": PASSWORD, "csrf_token": csrf_token(page.text)}
        ).status
        == 302
    )
    dashboard = visitor.get("/officer/")
    assert dashboard.status == 200
    visitor.post("/officer/logout", {"csrf_token": csrf_token(dashboard.text)})

    # The public verification by national code (a GET with the code in the query string).
    assert visitor.get(f"/verify?q={national_code}").status == 200
    assert visitor.get(f"/verify?q={quote(persian.to_persian_digits(national_code))}").status == 200

    # A password reset with the code sent by SMS.
    time.sleep(1)  # the registration's own SMS (the user code) is out before we count
    seen = len(sms_texts(folder, mobile))
    page = visitor.get("/officer/password/reset")
    asked = visitor.post("/officer/password/reset", {"username": national_code, "csrf_token": csrf_token(page.text)})
    assert asked.status in (302, 303), asked
    confirm = visitor.get(asked.headers["Location"])
    codes.append(six_digit_code(next_sms(folder, mobile, seen)))
    fields = {
        **hidden_fields(confirm.text),
        "code": codes[-1],
        "new_password": NEW_PASSWORD,
        "new_password_confirm": NEW_PASSWORD,
    }
    if 'name="username"' in confirm.text and not fields.get("username"):
        fields["username"] = national_code
    done = visitor.post(asked.headers["Location"].split("?")[0], fields)
    assert done.status in (302, 303), done
    page = visitor.get("/officer/login")
    assert (
        visitor.post(
            "/officer/login", {"username": national_code, "password": NEW_PASSWORD, "csrf_token": csrf_token(page.text)}
        ).status
        == 302
    )

    # A reviewer searches by national code; someone types one into a URL.
    staff = host.flask(
        "create-staff", "--username", "privacy-director", "--password", PASSWORD, "--role", "directorate", check=False
    )
    assert staff.returncode == 0, staff.stderr
    command_log = staff.stderr + staff.stdout
    reviewer = Browser(visitor.base_url, visitor.ca_file)
    page = reviewer.get("/admin/login")
    assert (
        reviewer.post(
            "/admin/login", {"username": "privacy-director", "password": PASSWORD, "csrf_token": csrf_token(page.text)}
        ).status
        == 302
    )
    assert reviewer.get(f"/admin/officer/?search={national_code}").status == 200
    assert visitor.get(f"/officer/{national_code}").status == 404
    assert visitor.get(f"/officer/{quote(persian.to_persian_digits(national_code))}").status == 404
    visitor.answers += reviewer.answers
    return {
        "national_code": national_code,
        "mobile": mobile,
        "codes": codes,
        "user_code": user_code.group(1),
        "command_log": command_log,
    }


def forbidden_forms(secrets_: dict) -> list[str]:
    """Every way the secrets could be written: digits in each script, the mobile with +98."""
    national_code, mobile = secrets_["national_code"], secrets_["mobile"]
    values = [national_code, mobile, mobile[1:], "+98" + mobile[1:], *secrets_["codes"]]
    forms = set()
    for value in values:
        persian_digits = persian.to_persian_digits(value)
        # as typed, in Persian digits, URL-encoded, and as nginx escapes bytes in its log
        forms |= {
            value,
            persian_digits,
            quote(persian_digits),
            "".join(f"\\x{byte:02X}" if byte > 127 else chr(byte) for byte in persian_digits.encode()),
        }
    return sorted(forms)


QUERY_STRING = re.compile(r"\?[^\s\"']*=")


def test_no_log_line_carries_personal_data_or_a_query_string(site, processes, tls_certificate):
    host, balancer, folder = site
    visitor = Browser(balancer.url, tls_certificate[0])
    secrets_ = drive_everything(host, visitor, folder)
    time.sleep(1)  # the last lines reach the files
    logs = {name: processes.log(name) for name in processes.started}
    logs["nginx access log"] = (folder / "nginx" / "nginx-access.log").read_text()
    error_log = folder / "nginx" / "nginx-error.log"
    logs["nginx error log"] = error_log.read_text() if error_log.exists() else ""
    logs["flask create-staff"] = secrets_["command_log"]
    lines = [(name, line) for name, text in logs.items() for line in text.splitlines() if line.strip()]
    assert len(lines) > 100  # debug level: the libraries' lines are there too

    for name, line in lines:
        for secret in forbidden_forms(secrets_):
            assert secret not in line, f"{secret!r} in {name}: {line}"
        assert not QUERY_STRING.search(line), f"a query string in {name}: {line}"

    # gunicorn's and the application's lines are JSON objects, one a line.
    app_lines = [json.loads(line) for line in logs["privacy-host-registry-web"].splitlines() if line.strip()]
    requests = [entry for entry in app_lines if entry["logger"] == "registry.request"]
    access = [entry for entry in app_lines if entry["logger"] == "gunicorn.access"]
    # One request line per request, under the id nginx gave it, returned to the browser.
    returned = [answer.headers["X-Request-Id"] for answer in visitor.answers]
    assert sorted(entry["request_id"] for entry in requests) == sorted(returned)
    assert sorted(entry["request_id"] for entry in access) == sorted(returned)
    assert set(re.findall(r"id=([0-9a-f]{32})", logs["nginx access log"])) == set(returned)
    assert all(re.fullmatch(r"[0-9a-f]{32}", rid) for rid in returned)  # nginx's $request_id
    # The request lines name routes, never paths as typed.
    assert {"public.verify", "officer_site.password_reset_confirm"} <= {entry["endpoint"] for entry in requests}
    assert any(entry["status"] == 404 and entry["route"] == "" for entry in requests)
