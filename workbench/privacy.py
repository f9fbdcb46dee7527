"""Masking of personal data, applied wherever names, phones and emails are shown or logged.

One policy everywhere (PRODUCT_NOTES.md 2.2): names keep the family name and the last character
(홍*동; two-character names become 김*), phones keep the first and last groups
(010-****-5678), emails keep up to two leading characters of the local part (ab***@domain).

Examples
--------
>>> mask_name("홍길동"), mask_name("김수"), mask_name("John Smith")
('홍*동', '김*', 'J*** S****')
>>> mask_phone("01012345678"), mask_phone("010-1234-5678")
('010-****-5678', '010-****-5678')
>>> mask_email("abcdef@example.com")
'ab***@example.com'
"""

from __future__ import annotations

import re

import pandas as pd

__all__ = ["PII_MASKERS", "mask_email", "mask_frame", "mask_name", "mask_phone", "normalize_phone"]


def mask_name(name: str | None) -> str | None:
    """Mask a person's name (Korean: 홍*동; Latin: initials of each word)."""
    if name is None or (isinstance(name, float) and pd.isna(name)) or name == "":
        return name
    name = str(name).strip()
    if re.fullmatch(r"[가-힣]+", name):
        if len(name) <= 2:
            return name[0] + "*"
        return name[0] + "*" * (len(name) - 2) + name[-1]
    return " ".join(w[0] + "*" * (len(w) - 1) for w in name.split())


def normalize_phone(phone: str | None) -> str | None:
    """Normalise a Korean phone number to digits (``01012345678``).

    Excel often drops the leading zero (``1012345678``): it is added back. ``+82`` becomes ``0``.

    >>> normalize_phone("+82 10-1234-5678"), normalize_phone("1012345678")
    ('01012345678', '01012345678')
    """
    if phone is None or (isinstance(phone, float) and pd.isna(phone)):
        return None
    digits = re.sub(r"\D", "", str(phone))
    if not digits:
        return None
    if digits.startswith("82") and len(digits) >= 11:
        digits = "0" + digits[2:]
    if digits.startswith("1") and len(digits) in (9, 10):
        digits = "0" + digits
    return digits


def mask_phone(phone: str | None) -> str | None:
    """Mask the middle group of a phone number: ``010-****-5678``."""
    digits = normalize_phone(phone)
    if not digits:
        return phone
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}-{'*' * (len(digits) - 7)}-{digits[-4:]}"


def mask_email(email: str | None) -> str | None:
    """Keep up to two leading characters of the local part: ``ab***@example.com``.

    A value without ``@`` (loaded before emails were checked, or typed into a form) is masked
    as a whole, never shown as it is:

    >>> mask_email("abcdef"), mask_email("a@b@example.com"), mask_email("")
    ('ab***', 'a***@b@example.com', '')
    """
    if email is None or (isinstance(email, float) and pd.isna(email)) or email == "":
        return email
    local, _, domain = str(email).partition("@")
    return f"{local[:2]}***@{domain}" if domain else f"{local[:2]}***"


PII_MASKERS = {"name": mask_name, "phone": mask_phone, "email": mask_email,
               "birth_date": lambda v: None if v is None else "****-**-**"}


def mask_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy with every personal-data column of the data contract masked."""
    out = df.copy()
    for col, fn in PII_MASKERS.items():
        if col in out.columns:
            out[col] = out[col].map(fn, na_action="ignore").astype(object)
    return out
