"""Officer registration through the public form: each rule, with the message the user sees."""

import json

import pytest

import models
from helpers import register_through_the_form, registration_data


def post_registration(client, **overrides):
    """Step one only (the form): a refused form answers 422, a good one 303 to the code form."""
    return client.post("/officer/register", data=registration_data(**overrides))


def test_successful_registration_issues_a_user_code_and_queues_its_sms(client, dbc):
    response = register_through_the_form(client)
    assert response.status_code == 303
    response = client.get(response.headers["Location"])
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    officer = models.Officer.get(models.Officer.national_code == "0499370899")
    assert 'id="user-code"' in html and officer.user_code in html
    assert len(officer.user_code) == 8 and officer.user_code.isdigit()
    assert officer.password_hash.startswith("$argon2id$")
    sms = (
        models.SmsOutbox.select().where(models.SmsOutbox.to == "09121234567").order_by(models.SmsOutbox.id.desc()).get()
    )
    assert officer.user_code in sms.text
    assert "کد کاربری" in sms.text  # Persian, from the catalogue


BAD_INPUTS = [
    ({"national_code": "0499370898"}, "national_code", "کد ملی معتبر نیست"),
    ({"national_code": "1111111111"}, "national_code", "کد ملی معتبر نیست"),
    ({"national_code": ""}, "national_code", "کد ملی خود را وارد کنید"),
    ({"birth_date": "1402/12/30"}, "birth_date", "تاریخ شمسی"),
    ({"birth_date": "1400/07/31"}, "birth_date", "تاریخ شمسی"),
    ({"birth_date": "1395/01/01"}, "birth_date", "۱۸ سال"),
    ({"birth_date": "1500/01/01"}, "birth_date", ""),
    ({"mobile": "0812345678"}, "mobile", "09121234567"),
    ({"mobile": "+1 555 0100"}, "mobile", "09121234567"),
    ({"postal_code": "12345"}, "postal_code", "۱۰ رقم"),
    ({"email": "not-an-email"}, "email", "ایمیل"),
    ({"password": "short", "password_confirm": "short"}, "password", "۸ نویسه"),
    ({"password": "password123", "password_confirm": "password123"}, "password", "رایج"),
    ({"password_confirm": "Different-2024"}, "password_confirm", "یکسان نیستند"),
    ({"first_name": ""}, "first_name", "نام خود را وارد کنید"),
    ({"last_name": ""}, "last_name", "نام خانوادگی خود را وارد کنید"),
    ({"father_name": ""}, "father_name", "نام پدر خود را وارد کنید"),
    ({"birth_date": ""}, "birth_date", "تاریخ تولد خود را وارد کنید"),
    ({"mobile": ""}, "mobile", "شماره همراه خود را وارد کنید"),
    ({"id_card_number": ""}, "id_card_number", "شماره شناسنامه خود را وارد کنید"),
    ({"address": ""}, "address", "نشانی پستی خود را وارد کنید"),
    ({"postal_code": ""}, "postal_code", "کد پستی خود را وارد کنید"),
    ({"password": "", "password_confirm": ""}, "password", "گذرواژه‌ای انتخاب کنید"),
    ({"first_name": "<b>x</b>"}, "first_name", "نام"),
    ({"gender": "other"}, "gender", "جنسیت"),
    ({"field_of_study": ""}, "field_of_study", "رشته"),
    ({"degree_level": "999999"}, "degree_level", "مقطع"),
    ({"address": "کوتاه"}, "address", "نشانی"),
]


@pytest.mark.parametrize("overrides, field, message", BAD_INPUTS)
def test_bad_input_is_refused_next_to_its_field_and_in_the_summary(client, dbc, overrides, field, message):
    response = post_registration(client, **overrides)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'role="alert"' in html
    assert f'id="{field}"' in html
    if field != "gender":
        tag = html[html.index(f'id="{field}"') - 400 : html.index(f'id="{field}"') + 400]
        assert 'aria-invalid="true"' in tag
    assert message in html
    assert models.Officer.select().count() == 0
    # What was typed stays (except passwords).
    if "first_name" not in overrides:
        assert "مریم" in html
    assert "Kh0sh-Amad-2024" not in html


def test_city_outside_the_chosen_province_is_refused(client, dbc):
    isfahan = models.City.get(models.City.name == "اصفهان")
    response = post_registration(client, city=str(isfahan.id))
    assert response.status_code == 422
    assert "استان" in response.get_data(as_text=True)


def test_ineligible_field_says_why(client, dbc):
    field = models.FieldOfStudy.select().where(models.FieldOfStudy.eligible == False).first()  # noqa: E712
    response = post_registration(client, field_of_study=str(field.id))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field.name in html and "قوانین" in html


@pytest.mark.parametrize("typed", ["۰۴۹۹۳۷۰۸۹۹", "٠٤٩٩٣٧٠٨٩٩", "0499-370-899", " 0499370899 "])
def test_one_registration_per_national_code_whatever_the_digits(client, dbc, typed):
    assert register_through_the_form(client).status_code == 303
    response = post_registration(client, national_code=typed, mobile="09351112233")
    assert response.status_code == 422
    assert "قبلاً" in response.get_data(as_text=True)
    assert models.Officer.select().count() == 1


def test_persian_digits_and_international_mobile_are_accepted(client, dbc):
    response = register_through_the_form(
        client, national_code="۰۷۹۰۴۱۹۹۰۴", mobile="+98 912 765 4321", postal_code="۱۳۱۴۵۶۷۸۹۰", birth_date="۱۳۶۵/۰۱/۱۵"
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    officer = models.Officer.get(models.Officer.national_code == "0790419904")
    assert officer.mobile == "09127654321" and officer.postal_code == "1314567890"
    assert officer.birth_date.isoformat() == "1986-04-04"


def test_arabic_letters_are_normalised(client, dbc):
    register_through_the_form(client, first_name="علي", last_name="كريمي")
    officer = models.Officer.get()
    assert officer.first_name == "علی" and officer.last_name == "کریمی"


def test_user_codes_are_unique(client, make_officer, dbc):
    codes = {make_officer().user_code for _ in range(5)}
    assert len(codes) == 5


def test_city_select_lists_every_city_grouped_by_province(client, dbc):
    html = client.get("/officer/register").get_data(as_text=True)
    select = html[html.index('id="city"') :]
    select = select[: select.index("</select>")]
    assert select.count("<optgroup") == 31
    assert 'label="تهران"' in select and 'label="اصفهان"' in select
    assert select.count("<option") >= models.City.select().count()


def test_registration_sms_is_written_by_the_log_backend(app, client, dbc, tmp_path):
    import notify

    register_through_the_form(client)
    notify.deliver_pending(notify.backend_from_config(app.config))
    line = json.loads((tmp_path / "sms.log").read_text(encoding="utf-8").splitlines()[-1])
    assert line["to"] == "09121234567" and models.Officer.get().user_code in line["text"]


def test_sms_reaches_the_log_within_seconds_with_nothing_else_running(app, dbc, tmp_path):
    import time

    from app import create_app

    live = create_app(dict(app.config, SMS_DELIVER_IN_BACKGROUND=True))
    try:
        register_through_the_form(live.test_client())
        log = tmp_path / "sms.log"
        user_code = models.Officer.get().user_code
        for _ in range(40):
            if log.exists() and user_code in log.read_text(encoding="utf-8"):
                break
            time.sleep(0.1)
        assert models.Officer.get().user_code in log.read_text(encoding="utf-8")
    finally:
        live.extensions["sms_sender"].stop()
