"""The commands of the contract."""

import models


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_init_db_is_safe_to_run_again(app, dbc):
    first = run(app, "init-db")
    assert first.exit_code == 0, first.output
    assert "reference data: up to date" in first.output  # the fixture already loaded everything
    assert models.Province.select().count() == 31
    assert models.University.select().count() >= 55
    assert models.City.select().count() >= 400


def test_tehran_is_split_between_three_universities(dbc, app):
    tehran = models.Province.get(models.Province.name == "تهران")
    names = {c.university.name for c in models.City.select().where(models.City.province == tehran)}
    assert names == {"دانشگاه علوم پزشکی تهران", "دانشگاه علوم پزشکی شهید بهشتی", "دانشگاه علوم پزشکی ایران"}


def test_create_staff_names_the_university_in_persian(app, dbc):
    result = run(
        app,
        "create-staff",
        "--username",
        "isf",
        "--password",
        "Kh0sh-Amad-2024",
        "--role",
        "university",
        "--university",
        "دانشگاه علوم پزشكي اصفهان",
    )  # Arabic ک/ی typed
    assert result.exit_code == 0, result.output
    staff = models.StaffUser.get(models.StaffUser.username == "isf")
    assert staff.university.name == "دانشگاه علوم پزشکی اصفهان"
    bad = run(
        app,
        "create-staff",
        "--username",
        "x",
        "--password",
        "Kh0sh-Amad-2024",
        "--role",
        "university",
        "--university",
        "دانشگاه ناموجود",
    )
    assert bad.exit_code != 0


def test_create_staff_refuses_a_weak_password(app, dbc):
    result = run(app, "create-staff", "--username", "d", "--password", "password", "--role", "directorate")
    assert result.exit_code != 0
    assert models.StaffUser.select().count() == 0


def test_create_distributor(app, dbc):
    result = run(
        app,
        "create-distributor",
        "--username",
        "dd",
        "--password",
        "Kh0sh-Amad-2024",
        "--name",
        "شرکت نمونه",
        "--kind",
        "company",
        "--manager-mobile",
        "+989121234567",
    )
    assert result.exit_code == 0, result.output
    assert models.Distributor.get().manager_mobile == "09121234567"


def test_deliver_sms_sends_the_queue(app, dbc, tmp_path):
    models.queue_sms("09121234567", "سلام")
    result = run(app, "deliver-sms")
    assert result.exit_code == 0 and "sent=1" in result.output
    assert "سلام" in (tmp_path / "sms.log").read_text(encoding="utf-8")


def test_demo_accounts_on_an_empty_development_database(app, dbc):
    app.config["SEED_DEMO_DATA"] = True
    result = run(app, "init-db")
    assert "tehran-reviewer" in result.output and "isfahan-reviewer" in result.output
    assert "demo-distributor" in result.output
    assert models.StaffUser.select().count() == 3
    again = run(app, "init-db")
    assert "tehran-reviewer" not in again.output


def test_create_staff_takes_a_school_by_its_official_name_or_the_contract_form(app, dbc):
    for username, name in (
        ("khoy1", "دانشکده علوم پزشکی خوی"),
        ("khoy2", "دانشگاه علوم پزشکی خوی"),
        ("gerash", "دانشگاه علوم پزشکی گراش"),
    ):
        result = run(
            app,
            "create-staff",
            "--username",
            username,
            "--password",
            "Kh0sh-Amad-2024",
            "--role",
            "university",
            "--university",
            name,
        )
        assert result.exit_code == 0, result.output
        staff = models.StaffUser.get(models.StaffUser.username == username)
        assert staff.university.kind == "school" and staff.university.name.startswith("دانشکده علوم پزشکی ")
