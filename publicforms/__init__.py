"""The public door: the pages for everyone (``public``), the officer's site (``officer/``)
and the distributor's (``distributor``), their forms and templates. What it shares with the
back office is in ``web/``."""
