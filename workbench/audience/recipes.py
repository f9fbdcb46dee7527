"""Ready audience definitions for the campaign scenarios of ``PRODUCT_NOTES.md`` 1.4.

Each recipe is a YAML file in ``recipes/`` next to this module, in the same format as saved
audiences, with the notes' default timings: welcome; first purchase +1 h / +3 d / +14 d; cart
abandonment +1 h / +24 h; browse follow-up (3+ views of one product in 30 days); review request
(delivered 7-14 days ago); replenishment due; dormant (no login, visit or order in 90 days);
VIP (3+ orders in 90 days); birthday this month; signed up but never bought; checkout drop-off;
and from member data: birthday today; sign-up anniversary; coupon-acquired customers without a
second order (30-90 days after the first); guests active in 7 days who have not signed up;
VIP with 5,000+ KRW of points.

Examples
--------
>>> load_recipe("vip").rules.items[0].get("min_count")
3
>>> "cart_abandonment_1h" in RECIPES
True
"""

from __future__ import annotations

from importlib import resources

from workbench.audience.fields import did_you_mean
from workbench.audience.rules import AudienceDefinition
from workbench.errors import InputError
from workbench.i18n import tr

__all__ = ["RECIPES", "load_recipe"]


def _names() -> tuple[str, ...]:
    folder = resources.files("workbench.audience") / "recipes"
    return tuple(sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml")))


#: Names of the shipped recipes.
RECIPES: tuple[str, ...] = _names()


def load_recipe(name: str) -> AudienceDefinition:
    """Return a shipped recipe by name.

    Raises
    ------
    InputError
        Unknown name (the message lists the recipes).
    """
    if name not in RECIPES:
        raise InputError(tr("audience.error.unknown_recipe", got=repr(name), recipes=list(RECIPES),
                            hint=did_you_mean(name, RECIPES)))
    text = (resources.files("workbench.audience") / "recipes" / f"{name}.yaml").read_text(
        encoding="utf-8")
    return AudienceDefinition.from_yaml(text, source=f"recipe {name}")
