"""Rule-based audiences: definitions as data, compiled to Ibis, counted, checked and exported.

Public API::

    from workbench.audience import Audience, load_recipe
    aud = Audience(load_recipe("cart_abandonment_1h"), con, as_of=date(2026, 11, 16))
    aud.count(); aud.members(); aud.to_sql()
    export_audience(aud, channel="sms", out="cart.csv", holdout=0.1, ...)
"""

from workbench.audience.audience import MEMBER_COLUMNS, Audience, AudienceResult, overlap
from workbench.audience.compliance import (
    EXCLUSION_RULES,
    SEND_CHANNELS,
    MessageCheck,
    check_message,
    cp949_bytes,
    eligibility,
    is_night,
)
from workbench.audience.conditions import CONDITION_TYPES, ConditionType
from workbench.audience.export import ExportResult, export_audience, read_export_log
from workbench.audience.fields import FieldSpec, OptionSource, choice_label, field_label
from workbench.audience.kakao import ad_signals, legacy_channel
from workbench.audience.migration import SCHEMA_VERSION
from workbench.audience.params import AudienceParams
from workbench.audience.personalise import FIELDS as PERSONAL_FIELDS
from workbench.audience.recipes import RECIPES, load_recipe
from workbench.audience.rules import AudienceDefinition, Condition, Group
from workbench.audience.storage import (
    SavedDefinition,
    audiences_dir,
    export_path,
    list_definitions,
    load_definition,
    new_definition,
    save_definition,
    saved_definitions,
)

__all__ = [
    "CONDITION_TYPES",
    "EXCLUSION_RULES",
    "MEMBER_COLUMNS",
    "PERSONAL_FIELDS",
    "RECIPES",
    "SCHEMA_VERSION",
    "SEND_CHANNELS",
    "Audience",
    "AudienceDefinition",
    "AudienceParams",
    "AudienceResult",
    "Condition",
    "ConditionType",
    "ExportResult",
    "FieldSpec",
    "Group",
    "MessageCheck",
    "OptionSource",
    "SavedDefinition",
    "ad_signals",
    "audiences_dir",
    "check_message",
    "choice_label",
    "cp949_bytes",
    "eligibility",
    "export_audience",
    "export_path",
    "field_label",
    "is_night",
    "legacy_channel",
    "list_definitions",
    "load_definition",
    "load_recipe",
    "new_definition",
    "overlap",
    "read_export_log",
    "save_definition",
    "saved_definitions",
]
