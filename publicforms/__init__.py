"""Public forms: the officer and distributor blueprints, the shared layout and helpers."""
