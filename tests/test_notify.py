"""Tests for notify.py: a real SQLite file and a local fake Kavenegar (pytest_httpserver)."""

import datetime as dt
import json
import pathlib
import sys
import threading
import time

import pytest
from werkzeug.wrappers import Response

# notify.py lives at the project root; make it importable however pytest is run.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import notify  # noqa: E402
from models import SmsOutbox, bind_database, connect_database, db, queue_sms, utcnow  # noqa: E402
from notify import (  # noqa: E402
    BackgroundSender,
    KavenegarBackend,
    LogBackend,
    PermanentFailure,
    TemporaryFailure,
    backend_from_config,
    backoff_delay,
    claim,
    deliver_loop,
    deliver_pending,
    resend,
)

API_KEY = "5A7B2C-SECRET-KEY-9F"
SEND_PATH = f"/v1/{API_KEY}/sms/send.json"
MOBILE = "09121234567"
PERSIAN = "درخواست شما تأیید شد. کد پیگیری: ۱۲۳۴۵"


@pytest.fixture
def database(tmp_path):
    url = "sqlite:///" + str(tmp_path / "t.db")
    database = connect_database(url)
    bind_database(database)
    db.create_tables([SmsOutbox])
    yield url
    database.close()


def queued(to=MOBILE, text=PERSIAN):
    with db.atomic():
        return queue_sms(to, text)


def reload(sms):
    return SmsOutbox.get_by_id(sms.id)


def kavenegar_ok(messageid=8792343):
    return {
        "return": {"status": 200, "message": "تایید شد"},
        "entries": [
            {
                "messageid": messageid,
                "message": PERSIAN,
                "status": 1,
                "statustext": "در صف ارسال",
                "sender": "10004346",
                "receptor": MOBILE,
                "date": 1356619709,
                "cost": 120,
            }
        ],
    }


def kavenegar_error(status, message="خطا"):
    return json.dumps({"return": {"status": status, "message": message}, "entries": None}, ensure_ascii=False)


class FakeKavenegar:
    """A handler speaking Kavenegar's API; ``answers`` is consumed one per request."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.forms = []

    def __call__(self, request):
        assert request.method == "POST"
        assert API_KEY in request.path and request.path.endswith("/sms/send.json")
        self.forms.append(request.form.to_dict())
        status, body = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(body, dict):
            body = json.dumps(body, ensure_ascii=False)
        return Response(body, status=status, content_type="application/json; charset=utf-8")


def kavenegar(httpserver, answers, timeout=10):
    fake = FakeKavenegar(answers)
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_handler(fake)
    backend = KavenegarBackend(API_KEY, "10004346", base_url=httpserver.url_for("/"), timeout=timeout)
    return backend, fake


class RecordingBackend:
    def __init__(self):
        self.sent = []

    def send(self, to, text):
        self.sent.append((to, text))
        return f"rec-{len(self.sent)}"


# --------------------------------------------------------------------------
# Backends
# --------------------------------------------------------------------------


def test_log_backend_writes_one_json_line_with_persian_intact(tmp_path):
    path = tmp_path / "nested" / "dir" / "sms.log"
    backend = LogBackend(path)
    first = backend.send(MOBILE, PERSIAN)
    second = backend.send("09350000000", "دوم")
    raw = path.read_text(encoding="utf-8")
    assert PERSIAN in raw  # written as-is, not as \u escapes
    lines = raw.splitlines()
    assert len(lines) == 2
    record = json.loads(lines[0])
    assert record["to"] == MOBILE and record["text"] == PERSIAN
    at = dt.datetime.fromisoformat(record["at"])
    assert at.utcoffset() == dt.timedelta(0)
    assert abs(dt.datetime.now(dt.UTC) - at) < dt.timedelta(minutes=1)
    assert first and second and first != second


def test_log_backend_unwritable_path_is_temporary(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(TemporaryFailure):
        LogBackend(blocker / "sms.log").send(MOBILE, "x")


def test_kavenegar_sends_the_real_api_fields(httpserver):
    backend, fake = kavenegar(httpserver, [(200, kavenegar_ok(8792343))])
    assert backend.send(MOBILE, PERSIAN) == "8792343"
    assert fake.forms == [{"receptor": MOBILE, "message": PERSIAN, "sender": "10004346"}]


def test_kavenegar_omits_empty_sender(httpserver):
    fake = FakeKavenegar([(200, kavenegar_ok())])
    httpserver.expect_request(SEND_PATH, method="POST").respond_with_handler(fake)
    KavenegarBackend(API_KEY, "", base_url=httpserver.url_for("/")).send(MOBILE, "x")
    assert "sender" not in fake.forms[0]


@pytest.mark.parametrize(
    "status, temporary",
    [
        (411, False),
        (412, False),
        (413, False),
        (414, False),
        (400, False),
        (422, False),
        (418, True),
        (429, True),
        (451, True),
        (409, True),
        (403, True),
        (500, True),
        (502, True),
        (503, True),
    ],
)
def test_kavenegar_status_classification(httpserver, status, temporary):
    http_status = status if status != 411 else 400
    backend, _ = kavenegar(httpserver, [(http_status, kavenegar_error(status))])
    with pytest.raises(TemporaryFailure if temporary else PermanentFailure) as info:
        backend.send(MOBILE, "x")
    assert API_KEY not in str(info.value)
    assert str(status) in str(info.value)


def test_kavenegar_error_status_inside_http_200_is_classified(httpserver):
    backend, _ = kavenegar(httpserver, [(200, kavenegar_error(411, "گیرنده نامعتبر"))])
    with pytest.raises(PermanentFailure, match="411"):
        backend.send(MOBILE, "x")


def test_kavenegar_non_json_answer_is_temporary(httpserver):
    backend, _ = kavenegar(httpserver, [(200, "<html>proxy login</html>")])
    with pytest.raises(TemporaryFailure):
        backend.send(MOBILE, "x")
    backend, _ = kavenegar(httpserver, [(502, "<html>Bad gateway</html>")])
    with pytest.raises(TemporaryFailure):
        backend.send(MOBILE, "x")


def test_kavenegar_unreachable_is_temporary_and_key_redacted():
    # Port 9 on localhost: nothing listens, the connection is refused.
    backend = KavenegarBackend(API_KEY, base_url="http://127.0.0.1:9", timeout=2)
    with pytest.raises(TemporaryFailure) as info:
        backend.send(MOBILE, "x")
    assert API_KEY not in str(info.value)
    assert API_KEY not in repr(backend)
    assert backend.redact(f"GET {backend.url}") == "GET http://127.0.0.1:9/v1/***/sms/send.json"


def test_backend_from_config(tmp_path):
    log = backend_from_config({"SMS_LOG_FILE": str(tmp_path / "s.log")})
    assert isinstance(log, LogBackend) and log.path == tmp_path / "s.log"
    kav = backend_from_config(
        {"SMS_BACKEND": "kavenegar", "KAVENEGAR_API_KEY": "k", "KAVENEGAR_SENDER": "1000", "KAVENEGAR_URL": "http://x/"}
    )
    assert isinstance(kav, KavenegarBackend)
    assert (kav.sender, kav.base_url, kav.timeout) == ("1000", "http://x", 10)
    default_url = backend_from_config({"SMS_BACKEND": "kavenegar", "KAVENEGAR_API_KEY": "k", "KAVENEGAR_URL": ""})
    assert default_url.base_url == "https://api.kavenegar.com"
    with pytest.raises(ValueError):
        backend_from_config({"SMS_BACKEND": "kavenegar", "KAVENEGAR_API_KEY": ""})
    with pytest.raises(ValueError):
        backend_from_config({"SMS_BACKEND": "pigeon"})


# --------------------------------------------------------------------------
# Delivery
# --------------------------------------------------------------------------


def test_kavenegar_success_stores_messageid(database, httpserver):
    sms = queued()
    backend, fake = kavenegar(httpserver, [(200, kavenegar_ok(8792343))])
    now = utcnow()
    assert deliver_pending(backend, now=now) == {"sent": 1, "retry": 0, "failed": 0}
    row = reload(sms)
    assert (row.status, row.provider_id, row.attempts) == ("sent", "8792343", 1)
    assert row.sent_at == now and row.locked_until is None and row.last_error == ""
    assert fake.forms[0]["message"] == PERSIAN
    # Nothing is sent twice.
    assert deliver_pending(backend, now=now + dt.timedelta(hours=1))["sent"] == 0
    assert len(fake.forms) == 1


def test_server_errors_then_success_is_sent_after_four_attempts(database, httpserver):
    sms = queued()
    backend, fake = kavenegar(httpserver, [(500, "oops")] * 3 + [(200, kavenegar_ok(42))])
    now = utcnow()
    for attempt in (1, 2, 3):
        assert deliver_pending(backend, now=now) == {"sent": 0, "retry": 1, "failed": 0}
        row = reload(sms)
        assert (row.status, row.attempts) == ("pending", attempt)
        assert row.next_attempt_at == now + backoff_delay(attempt)
        assert "500" in row.last_error
        # Not due yet: a pass just before the retry time sends nothing.
        assert deliver_pending(backend, now=row.next_attempt_at - dt.timedelta(seconds=1)) == {
            "sent": 0,
            "retry": 0,
            "failed": 0,
        }
        now = row.next_attempt_at
    assert deliver_pending(backend, now=now)["sent"] == 1
    row = reload(sms)
    assert (row.status, row.attempts, row.provider_id) == ("sent", 4, "42")
    assert len(fake.forms) == 4


def test_long_outage_backs_off_then_fails_without_losing_the_message(database, httpserver):
    sms = queued()
    backend, fake = kavenegar(httpserver, [(503, kavenegar_error(503, "unavailable"))])
    now = utcnow()
    delays = []
    for attempt in range(1, 8):
        assert deliver_pending(backend, now=now, max_attempts=8)["retry"] == 1
        row = reload(sms)
        assert (row.status, row.attempts) == ("pending", attempt)
        delays.append(row.next_attempt_at - now)
        now = row.next_attempt_at
    assert delays == [dt.timedelta(seconds=30 * 2**n) for n in range(1, 8)]
    assert deliver_pending(backend, now=now, max_attempts=8) == {"sent": 0, "retry": 0, "failed": 1}
    row = reload(sms)
    assert (row.status, row.attempts, row.text) == ("failed", 8, PERSIAN)  # still there
    assert "503" in row.last_error and row.locked_until is None
    assert deliver_pending(backend, now=now + dt.timedelta(days=1))["failed"] == 0
    assert len(fake.forms) == 8


def test_backoff_is_capped_at_six_hours():
    assert backoff_delay(1) == dt.timedelta(minutes=1)
    assert backoff_delay(3) == dt.timedelta(minutes=4)
    assert backoff_delay(10) == dt.timedelta(hours=6)
    assert backoff_delay(10_000) == dt.timedelta(hours=6)


def test_permanent_refusal_fails_at_once_without_the_key(database, httpserver):
    sms = queued(to="0912")
    backend, fake = kavenegar(httpserver, [(400, kavenegar_error(411, "گیرنده نامعتبر است"))])
    assert deliver_pending(backend) == {"sent": 0, "retry": 0, "failed": 1}
    row = reload(sms)
    assert (row.status, row.attempts) == ("failed", 1)
    assert "411" in row.last_error and "گیرنده نامعتبر است" in row.last_error
    assert API_KEY not in row.last_error
    assert fake.forms[0]["receptor"] == "0912"


def test_insufficient_credit_keeps_the_message_pending(database, httpserver):
    sms = queued()
    backend, _ = kavenegar(httpserver, [(418, kavenegar_error(418, "اعتبار کافی نیست"))])
    assert deliver_pending(backend)["retry"] == 1
    assert reload(sms).status == "pending"


def test_timeout_is_temporary(database, httpserver):
    sms = queued()

    def slow(request):
        time.sleep(1.5)
        return Response(json.dumps(kavenegar_ok()), content_type="application/json")

    httpserver.expect_request(SEND_PATH, method="POST").respond_with_handler(slow)
    backend = KavenegarBackend(API_KEY, base_url=httpserver.url_for("/"), timeout=0.5)
    started = time.monotonic()
    assert deliver_pending(backend) == {"sent": 0, "retry": 1, "failed": 0}
    assert time.monotonic() - started < 1.4
    row = reload(sms)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "time" in row.last_error.lower() and API_KEY not in row.last_error


def test_unexpected_backend_error_is_retried_not_lost(database):
    sms = queued()

    class Broken:
        def send(self, to, text):
            raise RuntimeError("bug")

    assert deliver_pending(Broken())["retry"] == 1
    row = reload(sms)
    assert row.status == "pending" and "RuntimeError: bug" in row.last_error


def test_only_one_of_two_claimers_proceeds(database):
    sms = queued()
    now = utcnow()
    assert claim(sms.id, now) is True
    assert claim(sms.id, now) is False
    # While leased, a delivery pass leaves it alone.
    backend = RecordingBackend()
    assert deliver_pending(backend, now=now + dt.timedelta(minutes=1))["sent"] == 0
    assert backend.sent == []
    # A crashed sender's lease expires: the message is sent (at least once).
    assert deliver_pending(backend, now=now + dt.timedelta(minutes=3))["sent"] == 1


def test_concurrent_claimers_in_threads(database):
    sms = queued()
    now = utcnow()
    results = []
    barrier = threading.Barrier(4)

    def worker():
        with db.connection_context():
            barrier.wait()
            results.append(claim(sms.id, now))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert sorted(results) == [False, False, False, True]


def test_claim_refuses_rows_not_due(database):
    sms = queued()
    now = utcnow()
    SmsOutbox.update(next_attempt_at=now + dt.timedelta(minutes=5)).execute()
    assert claim(sms.id, now) is False
    SmsOutbox.update(status="sent", next_attempt_at=now).execute()
    assert claim(sms.id, now) is False


def test_resend_puts_a_failed_message_back(database, httpserver):
    failed, sent = queued(), queued(text="دیگر")
    SmsOutbox.update(
        status="failed", attempts=8, last_error="x", next_attempt_at=utcnow() - dt.timedelta(days=2)
    ).where(SmsOutbox.id == failed.id).execute()
    SmsOutbox.update(status="sent").where(SmsOutbox.id == sent.id).execute()
    assert resend([failed.id, sent.id]) == 1
    row = reload(failed)
    assert (row.status, row.attempts, row.locked_until) == ("pending", 0, None)
    assert abs(row.next_attempt_at - utcnow()) < dt.timedelta(minutes=1)
    assert reload(sent).status == "sent"
    assert resend([]) == 0
    backend = RecordingBackend()
    assert deliver_pending(backend)["sent"] == 1
    assert backend.sent == [(MOBILE, PERSIAN)]


def test_deliver_pending_respects_limit_and_order(database):
    queued(text="1"), queued(text="2")
    third = queued(text="3")
    backend = RecordingBackend()
    assert deliver_pending(backend, limit=2)["sent"] == 2
    assert [text for _, text in backend.sent] == ["1", "2"]
    assert reload(third).status == "pending"


def wait_for(predicate, seconds=5.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_deliver_loop_sends_and_stops(database, tmp_path):
    sms = queued()
    log = tmp_path / "loop.log"
    stop = threading.Event()
    thread = threading.Thread(target=deliver_loop, args=(LogBackend(log), 0.05, stop))
    thread.start()
    try:
        assert wait_for(lambda: log.exists() and PERSIAN in log.read_text(encoding="utf-8"))
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()
    assert reload(sms).status == "sent"


def test_deliver_loop_survives_a_failing_pass(database, caplog, monkeypatch):
    calls = []

    def flaky(backend):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database away")

    monkeypatch.setattr(notify, "deliver_pending", flaky)
    stop = threading.Event()
    thread = threading.Thread(target=deliver_loop, args=(None, 0.01, stop))
    thread.start()
    assert wait_for(lambda: len(calls) >= 3)
    stop.set()
    thread.join(5)
    failures = [r for r in caplog.records if r.name == "registry.notify" and r.exc_info]
    assert failures and "database away" in str(failures[0].exc_info[1])


def test_background_sender_writes_the_line_soon_after_kick(database, tmp_path):
    log = tmp_path / "bg" / "sms.log"
    sender = BackgroundSender(lambda: LogBackend(log), database)
    try:
        sms = queued()
        assert not sender.running  # nothing starts before the first kick
        started = time.monotonic()
        sender.kick()
        assert wait_for(lambda: log.exists() and PERSIAN in log.read_text(encoding="utf-8"))
        assert time.monotonic() - started < 5
        assert wait_for(lambda: reload(sms).status == "sent")
        assert json.loads(log.read_text(encoding="utf-8").splitlines()[0])["to"] == MOBILE

        # A second message on the same thread.
        thread = sender._thread
        queued(text="دومین پیامک")
        sender.kick()
        assert wait_for(lambda: "دومین پیامک" in log.read_text(encoding="utf-8"))
        assert sender._thread is thread
    finally:
        sender.stop()
    assert not sender.running


def test_background_sender_restarts_a_dead_thread_and_after_fork(database, tmp_path):
    log = tmp_path / "sms.log"
    sender = BackgroundSender(lambda: LogBackend(log), database)
    try:
        sender.kick()
        sender.stop()
        assert not sender.running
        queued(text="پس از توقف")
        sender.kick()  # the dead thread is replaced
        assert sender.running
        assert wait_for(lambda: log.exists() and "پس از توقف" in log.read_text(encoding="utf-8"))
        # Pretend we are a forked child: the "parent's" thread must not count.
        parent_thread, parent_wake, parent_stop = sender._thread, sender._wake, sender._stop
        sender._pid = -1
        sender.kick()
        assert sender._thread is not parent_thread and sender.running
    finally:
        sender.stop()
        if "parent_stop" in locals():
            parent_stop.set()
            parent_wake.set()
            parent_thread.join(5)


def test_background_sender_survives_a_failing_backend_factory(database, tmp_path, caplog):
    log = tmp_path / "sms.log"
    attempts = []

    def factory():
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("config broken")
        return LogBackend(log)

    sender = BackgroundSender(factory, database)
    try:
        queued()
        sender.kick()
        assert wait_for(lambda: not sender.running)
        assert any(
            r.name == "registry.notify" and "config broken" in str(r.exc_info[1]) for r in caplog.records if r.exc_info
        )
        sender.kick()
        assert wait_for(lambda: log.exists())
    finally:
        sender.stop()
