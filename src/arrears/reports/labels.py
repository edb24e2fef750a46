"""Bilingual names for the report's categories (English, 中文)."""

from __future__ import annotations

CLASS_NAMES: dict[str, tuple[str, str]] = {
    "normal": ("normal", "正常"),
    "special_mention": ("special mention", "关注"),
    "substandard": ("substandard", "次级"),
    "doubtful": ("doubtful", "可疑"),
    "loss": ("loss", "损失"),
}
STAGE_NAMES: dict[str, tuple[str, str]] = {
    "1": ("stage 1", "第一阶段"),
    "2": ("stage 2 (SICR)", "第二阶段"),
    "3": ("stage 3 (impaired)", "第三阶段"),
}
STATE_NAMES: dict[str, tuple[str, str]] = {
    "paid_off": ("paid off", "已结清"),
    "written_off": ("written off", "已核销"),
}


def bilingual(key: object, names: dict[str, tuple[str, str]]) -> str:
    """`"substandard 次级"`; the key itself when it has no name."""
    en, zh = names.get(str(key), (str(key), ""))
    return f"{en} {zh}".strip()
