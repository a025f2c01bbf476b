"""A branch's own fields, cleaned the same way when it is defined and when it is edited.

Below :mod:`models.cooperation` (which defines the branch) and :mod:`models.branches`
(which edits and closes it), so both use one set of rules. Imports no Flask.
"""

from __future__ import annotations

from persian import normalize_text

from .base import N_, DomainError
from .officer_rules import ValidationFailed
from .reference import clean_district

BRANCH_FIELDS = ("name", "address", "province", "city", "district")
PLACE_FIELDS = ("province", "city", "district")


def clean_branch(name: str, province, city, address: str, district="") -> dict:
    """The branch's fields as stored, or :class:`ValidationFailed` naming every bad one.

    ``province`` and ``city`` are reference rows (None when not chosen); the district is
    required in a split city (Tehran) and must be empty elsewhere (Persian digits read)."""
    errors = {}
    name, address = normalize_text(name), normalize_text(address)
    if len(name) < 2:
        errors["name"] = (N_("Write the branch's name."), {})
    elif len(name) > 200:
        errors["name"] = (N_("Write at most %(max)d characters."), {"max": 200})
    if province is None:
        errors["province"] = (N_("Choose the province."), {})
    if city is None:
        errors["city"] = (N_("Choose the city."), {})
    elif province is not None and city.province_id != province.id:
        errors["city"] = (
            N_("The city %(city)s is not in the province %(province)s."),
            {"city": city.name, "province": province.name},
        )
    if "city" not in errors:
        try:
            district = clean_district(city, district)
        except DomainError as error:
            errors["district"] = (error.msgid, error.params)
    if len(address) < 10 or len(address) > 500:
        errors["address"] = (N_("Enter the full postal address (10 to 500 characters)."), {})
    if errors:
        raise ValidationFailed(errors)
    return {"name": name, "province": province, "city": city, "district": district, "address": address}
