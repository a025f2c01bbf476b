"""Values the back office's templates write as JSON, encoded once (issue 23)."""

from __future__ import annotations

from jinja2 import pass_eval_context


class EncodedOnce(dict):
    """A cached value written as JSON once (``tojson`` below): the filters' labels and
    options, the same for every page of a view and language until the cache renews them."""

    json = None

    @classmethod
    def of(cls, value):
        """``value`` (a dict, or None) as an EncodedOnce."""
        return None if value is None else cls(value)


def install_tojson(app) -> None:
    """Jinja's ``tojson``, keeping the text of an ``EncodedOnce`` once drawn."""
    original = app.jinja_env.filters["tojson"]

    @pass_eval_context
    def tojson(eval_ctx, value, indent=None):
        if isinstance(value, EncodedOnce) and indent is None:
            if value.json is None:
                value.json = original(eval_ctx, value)
            return value.json
        return original(eval_ctx, value, indent)

    app.jinja_env.filters["tojson"] = tojson
