"""A/B/n message tests at export: arms, their shares, their messages and their files.

``export_audience(..., variants={"A": text_a, "B": text_b}, holdout=0.1)`` (CLI:
``--variants "A=msg_a.txt,B=msg_b.txt" --holdout 0.1``) sends a different message to each arm:

- **Split.** The holdout share comes first and the rest is split equally between the arms in
  the order given: ``{"holdout": 0.1, "A": 0.45, "B": 0.45}``, through
  :func:`workbench.abtest.assign_variants` with the audience's salt. Holdout first keeps the
  holdout the same customers as a plain export with the same share and salt, and an equal split
  is what the A/B readout plans with (its sample-ratio check compares against it), so unequal
  weights are not offered.
- **Messages.** Every arm's text is checked (:func:`~workbench.audience.check_message`); one
  failing arm refuses the whole export, with each failing arm's problems under its name.
- **Files.** ``out.csv`` becomes ``out.A.csv``, ``out.B.csv``, ...: one file per arm, the
  holdout in none.
- **Names.** An arm is called like a variant of the A/B readout: a capital letter, then letters,
  digits or ``_``, at most :data:`MAX_ARM_NAME` characters (``A``, ``B``, ``Coupon10``); from
  two to :data:`MAX_ARMS` arms.

A coupon code may be one for all arms or one per arm (:func:`coupon_codes`), for tests of two
coupons.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from workbench.audience.compliance import MessageCheck, check_message
from workbench.errors import ParameterError
from workbench.i18n import tr

__all__ = ["ARM_PATTERN", "MAX_ARMS", "MAX_ARM_NAME", "ArmExport", "arm_path", "arm_shares",
           "check_arm_messages", "check_arms", "coupon_codes", "parse_arm_spec"]

#: Most arms one export may have: each arm needs enough customers to be measured.
MAX_ARMS = 10
#: Longest arm name (it becomes part of the file name and of the readout's labels).
MAX_ARM_NAME = 16
#: An arm's name: a variant name of the A/B readout (``VARIANT_PATTERN`` in the data contract)
#: that is not one of its reserved words (``holdout``, ``send``, ``control``).
ARM_PATTERN = re.compile(rf"^[A-Z][A-Za-z0-9_]{{0,{MAX_ARM_NAME - 1}}}$")
#: A coupon code: letters, digits, ``-`` and ``_`` (what shops' coupon systems issue).
COUPON_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


@dataclass(frozen=True, slots=True)
class ArmExport:
    """One arm of an A/B/n export: its share, file and message check."""

    name: str
    share: float
    path: Path
    rows: int
    sha256: str
    message_check: MessageCheck | None = None
    coupon_code: str | None = None


def _bad(key: str, **fields: object) -> ParameterError:
    return ParameterError(tr(f"audience.variants.{key}", **fields))


def check_arms(variants: Mapping[str, str], *, message: str | None = None) -> dict[str, str]:
    """Return the arms (name -> message text) after checking names, count and texts.

    Raises
    ------
    ParameterError
        Not a mapping, fewer than two or more than :data:`MAX_ARMS` arms, a bad arm name, a
        text that is not a string, or a single ``message`` given as well.

    Examples
    --------
    >>> list(check_arms({"A": "(광고) ...", "B": "(광고) ..."}))
    ['A', 'B']
    >>> check_arms({"a": "x", "B": "y"})
    Traceback (most recent call last):
    ...
    workbench.errors.ParameterError: variants: arm name 'a' ...
    """
    if message is not None:
        raise _bad("with_message")
    if not isinstance(variants, Mapping):
        raise _bad("not_mapping", got=type(variants).__name__)
    if not 2 <= len(variants) <= MAX_ARMS:
        raise _bad("count", got=len(variants), most=MAX_ARMS)
    for name, text in variants.items():
        if not isinstance(name, str) or not ARM_PATTERN.match(name):
            raise _bad("name", got=repr(name), most=MAX_ARM_NAME)
        if not isinstance(text, str) or not text.strip():
            raise _bad("text", arm=name, got=type(text).__name__)
    return dict(variants)


def arm_shares(arms: Sequence[str], holdout: float) -> dict[str, float]:
    """Return each arm's share of the eligible customers, the holdout first.

    >>> arm_shares(["A", "B"], 0.1)
    {'holdout': 0.1, 'A': 0.45, 'B': 0.45}
    >>> arm_shares(["A", "B", "C"], 0.0)
    {'A': 0.3333, 'B': 0.3333, 'C': 0.3333}
    """
    # Rounded to 4 places for the log; assign_variants normalises, so equal shares stay equal.
    rest = round((1.0 - holdout) / len(arms), 4)
    return {**({"holdout": holdout} if holdout > 0 else {}), **dict.fromkeys(arms, rest)}


def check_arm_messages(arms: Mapping[str, str], *, channel: str, is_ad: bool,
                       sender: str | None, subject: str | None,
                       template_code: str | None = None) -> dict[str, MessageCheck]:
    """Check every arm's message; refuse the export when any arm fails.

    Raises
    ------
    ParameterError
        One or more arms' messages break the rules: each failing arm's problems, by name.
    """
    checks = {name: check_message(text, channel=channel, is_ad=is_ad, sender=sender,
                                  subject=subject, template_code=template_code)
              for name, text in arms.items()}
    failing = [tr("audience.variants.arm_problems", arm=name, problems=c.summary())
               for name, c in checks.items() if not c.ok]
    if failing:
        raise _bad("refused", arms=", ".join(n for n, c in checks.items() if not c.ok),
                   problems=" ".join(failing))
    return checks


def arm_path(out: Path, arm: str) -> Path:
    """Return the file of one arm: the arm's name before the extension.

    >>> arm_path(Path("out/cart.csv"), "A").as_posix()
    'out/cart.A.csv'
    >>> arm_path(Path("cart"), "B").as_posix()
    'cart.B'
    """
    return out.with_name(f"{out.stem}.{arm}{out.suffix}" if out.suffix else f"{out.name}.{arm}")


def parse_arm_spec(text: str, option: str = "--variants",
                   example: str = "A=msg_a.txt,B=msg_b.txt") -> dict[str, str]:
    """Parse ``"A=msg_a.txt,B=msg_b.txt"`` into arm -> message file (order kept).

    >>> parse_arm_spec("A=msg_a.txt, B=msg_b.txt")
    {'A': 'msg_a.txt', 'B': 'msg_b.txt'}
    """
    out: dict[str, str] = {}
    for part in (p.strip() for p in str(text).split(",")):
        name, sep, file = (x.strip() for x in part.partition("="))
        if not sep or not name or not file:
            raise _bad("spec", option=option, example=example, got=repr(text))
        if name in out:
            raise _bad("duplicate", option=option, arm=name)
        out[name] = file
    return out


def coupon_codes(code: str | Mapping[str, str] | None, arms: Sequence[str]
                 ) -> dict[str, str] | None:
    """Return the coupon code of each arm (``None``: no code given).

    ``code`` is one code for every arm (``"WINTER10"``), or one per arm as a mapping or as
    ``"A=WIN10,B=WIN20"`` (every arm named exactly once).

    >>> coupon_codes("WINTER10", ["send"])
    {'send': 'WINTER10'}
    >>> coupon_codes("A=WIN10, B=WIN20", ["A", "B"])
    {'A': 'WIN10', 'B': 'WIN20'}
    """
    if code is None:
        return None
    if isinstance(code, str) and "=" in code:
        code = parse_arm_spec(code, "--coupon-code", "A=WIN10,B=WIN20")
    if isinstance(code, str):
        _check_code(code.strip())
        return dict.fromkeys(arms, code.strip())
    if not isinstance(code, Mapping):
        raise _bad("coupon_type", got=type(code).__name__)
    if set(code) != set(arms):
        unknown = sorted(set(code) - set(arms))
        hint = difflib.get_close_matches(unknown[0], list(arms), n=1) if unknown else []
        raise _bad("coupon_arms", given=sorted(code), arms=list(arms),
                   hint=tr("params.did_you_mean", suggestion=hint[0]) if hint else "")
    for value in code.values():
        _check_code(value)
    return {arm: str(code[arm]).strip() for arm in arms}


def _check_code(value: object) -> None:
    if not isinstance(value, str) or not COUPON_PATTERN.match(value.strip()):
        raise _bad("coupon_code", got=repr(value))
