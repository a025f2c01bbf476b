"""Who may open the officer's pages: a logged-in officer (others go to the officer login).

An officer of a split city (Tehran) registered before districts existed is first asked for
their municipal district (``officer_site.district``), whatever page they open.
"""

from __future__ import annotations

import functools

from flask import g, redirect, request, url_for

from web.session import account_required

DISTRICT_ENDPOINT = "officer_site.district"


def officer_required(view):
    """The view needs a logged-in officer who owes no district."""

    @account_required("officer", "officer_site.login")
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if request.endpoint != DISTRICT_ENDPOINT and g.account.needs_district():
            return redirect(url_for(DISTRICT_ENDPOINT, next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper
