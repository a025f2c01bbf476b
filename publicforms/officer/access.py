"""Who may open the officer's pages: a logged-in officer (others go to the officer login)."""

from __future__ import annotations

from web.session import account_required

officer_required = account_required("officer", "officer_site.login")
