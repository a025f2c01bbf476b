"""Fixtures of the API's tests: a small world (two distributors with a branch each, a free
qualified officer, qualification requests at two universities) and tokens issued the way
the back office issues them (``models.api_clients.issue_client``)."""

from __future__ import annotations

import pytest

import models
from helpers import PASSWORD, attach_all
from models import Action, api_clients
from models import cooperation as coops
from models import qualification as quals

TEHRAN = "دانشگاه علوم پزشکی تهران"
ISFAHAN = "دانشگاه علوم پزشکی اصفهان"


class World:
    """What the tests act on, by name."""


@pytest.fixture
def world(make_officer, make_staff, dbc):
    w = World()
    w.directorate = make_staff("directorate")
    w.pakhsh = models.create_distributor("pakhsh", PASSWORD, "شرکت پخش الف", "company", "09120000001")
    w.other = models.create_distributor("other", PASSWORD, "شرکت پخش ب", "guild", "09120000002")
    tehran = models.City.get(models.City.name == "تهران")
    w.branch = coops.create_branch(
        w.pakhsh.as_actor(), "شعبه ونک", tehran.province, tehran, "تهران، میدان ونک، پلاک ۵", district="17"
    )
    w.other_branch = coops.create_branch(
        w.other.as_actor(), "شعبه آزادی", tehran.province, tehran, "تهران، خیابان آزادی، پلاک ۹", district="17"
    )
    w.free_officer = make_officer(qualified=True)
    w.tehran_request = _submitted(make_officer(), "a1")
    w.isfahan_request = _submitted(make_officer(city="اصفهان"), "a2")
    return w


def _submitted(officer, folder):
    request = quals.start_request(officer, officer.as_actor())
    attach_all(request, officer.as_actor(), folder=folder)
    return request.apply(Action.SUBMIT, officer.as_actor())


@pytest.fixture
def issue(world):
    """``issue(holder_kind, holder="", scopes=None, rate=None)`` -> the token in clear."""

    def make(holder_kind, holder="", scopes=None, rate=None):
        _, token = api_clients.issue_client(
            world.directorate.as_actor(),
            f"system {holder_kind}",
            holder_kind,
            holder,
            scopes=scopes,
            rate_per_minute=rate,
        )
        return token

    return make


@pytest.fixture
def tokens(issue):
    """One token of each kind of holder, with every scope its kind may have."""
    return {
        "pakhsh": issue("distributor", "pakhsh"),
        "other": issue("distributor", "other"),
        "tehran": issue("university", TEHRAN),
        "isfahan": issue("university", ISFAHAN),
        "directorate": issue("directorate"),
    }


@pytest.fixture
def call(client):
    """``call(method, path, token=None, **kwargs)``: the test client with a bearer token."""

    def send(method, path, token=None, headers=None, **kwargs):
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return client.open(path, method=method, headers=headers, **kwargs)

    return send
