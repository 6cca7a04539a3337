"""Names of companies and people (English and Chinese), drawn without Python loops over rows."""

from __future__ import annotations

import numpy as np

_PREFIX = (
    "Acme", "Apex", "Blue", "Bright", "Cedar", "Clear", "Cobalt", "Crest", "Delta", "Echo", "Ever", "Falcon", "First",
    "Granite", "Green", "Harbor", "Helix", "Iron", "Juniper", "Keystone", "Lumen", "Maple", "Meridian", "Nimbus",
    "North", "Nova", "Oak", "Orbit", "Peak", "Pine", "Prime", "Quantum", "Red", "River", "Sage", "Silver", "Solar",
    "Spark", "Summit", "Terra", "Tidal", "True", "Union", "Vector", "Vertex", "West", "Willow", "Zenith",
)
_STEM = (
    "field", "stone", "bridge", "point", "wave", "line", "gate", "works", "path", "forge", "light", "leaf", "ridge",
    "stream", "core", "bay", "view", "scale", "mark", "wind",
)
_SUFFIX = ("Inc", "Ltd", "Group", "Labs", "Systems", "Partners", "Holdings", "Technologies", "Co", "Solutions")
_ZH_COMPANY_A = ("华", "中", "金", "瑞", "恒", "鼎", "博", "星", "海", "天", "宏", "新", "安", "嘉", "信", "远")
_ZH_COMPANY_B = ("科", "达", "通", "创", "盛", "源", "联", "智", "泰", "丰", "辰", "云")
_ZH_COMPANY_C = ("科技有限公司", "信息技术有限公司", "网络科技有限公司", "软件有限公司", "集团")
_ZH_CITY = ("上海", "北京", "深圳", "杭州", "广州", "成都", "南京", "苏州")

FIRST = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth", "William",
    "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Daniel", "Karen", "Emma", "Olivia", "Noah",
    "Liam", "Sophia", "Lucas", "Mia", "Ethan", "Amelia", "Oliver", "Priya", "Arjun", "Hiro", "Yuki", "Lars", "Ingrid",
    "Mateo", "Lucia", "Omar", "Fatima",
)
LAST = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez", "Wilson",
    "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Walker", "Hall", "Allen", "Young", "King",
    "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Carter", "Patel", "Tanaka", "Larsen", "Schmidt",
    "Dubois", "Rossi",
)
ZH_SURNAME = ("王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
              "林", "何")
ZH_GIVEN = ("伟", "芳", "娜", "敏", "静", "磊", "强", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "秀英",
            "晓东",
            "建华", "海燕", "志强", "丽")
ZH_PINYIN_SURNAME = ("wang", "li", "zhang", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou", "xu", "sun", "ma",
                     "zhu", "hu", "guo", "lin", "he")


def _cat(*parts: np.ndarray) -> np.ndarray:
    out = parts[0].astype(object)
    for p in parts[1:]:
        out = out + p.astype(object)
    return out


def _choose(rng: np.random.Generator, options, n: int) -> np.ndarray:
    return np.asarray(options, dtype=object)[rng.integers(0, len(options), n)]


def company_names(rng: np.random.Generator, n: int, chinese: np.ndarray) -> np.ndarray:
    """Distinct-looking company names; Chinese names where ``chinese`` is true. A number breaks rare ties."""
    en = _cat(_choose(rng, _PREFIX, n), _choose(rng, _STEM, n), np.full(n, " ", dtype=object), _choose(rng, _SUFFIX, n))
    zh = _cat(_choose(rng, _ZH_CITY, n), _choose(rng, _ZH_COMPANY_A, n), _choose(rng, _ZH_COMPANY_B, n),
              _choose(rng, _ZH_COMPANY_C, n))
    names = np.where(chinese, zh, en)
    _, first_index, inverse = np.unique(names.astype(str), return_index=True, return_inverse=True)
    dup = np.arange(n) != first_index[inverse]
    names[dup] = names[dup] + " " + np.arange(n)[dup].astype(str).astype(object)
    return names


def person_names(rng: np.random.Generator, n: int, chinese: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(display name, e-mail local part) per person."""
    first = rng.integers(0, len(FIRST), n)
    last = rng.integers(0, len(LAST), n)
    zs = rng.integers(0, len(ZH_SURNAME), n)
    zg = rng.integers(0, len(ZH_GIVEN), n)
    en_name = _cat(np.asarray(FIRST, dtype=object)[first], np.full(n, " ", dtype=object),
                   np.asarray(LAST, dtype=object)[last])
    zh_name = _cat(np.asarray(ZH_SURNAME, dtype=object)[zs], np.asarray(ZH_GIVEN, dtype=object)[zg])
    en_local = _cat(np.char.lower(np.asarray(FIRST)[first]).astype(object), np.full(n, ".", dtype=object),
                    np.char.lower(np.asarray(LAST)[last]).astype(object))
    zh_local = _cat(np.asarray(ZH_PINYIN_SURNAME, dtype=object)[zs], np.full(n, ".", dtype=object),
                    rng.integers(10, 99, n).astype(str).astype(object))
    return np.where(chinese, zh_name, en_name), np.where(chinese, zh_local, en_local)


def domains(names: np.ndarray, index: np.ndarray) -> np.ndarray:
    """A plausible e-mail domain per company: ``c<index>.example.com`` (example.com never delivers mail)."""
    return _cat(np.full(len(index), "c", dtype=object), index.astype(str).astype(object),
                np.full(len(index), ".example.com", dtype=object))


def phones(rng: np.random.Generator, n: int, chinese: np.ndarray) -> np.ndarray:
    us = _cat(np.full(n, "+1 ", dtype=object), rng.integers(201, 989, n).astype(str).astype(object),
              np.full(n, " 555 ", dtype=object), np.char.zfill(rng.integers(0, 9999, n).astype(str), 4).astype(object))
    cn = _cat(np.full(n, "+86 1", dtype=object), rng.integers(30, 89, n).astype(str).astype(object),
              np.full(n, " ", dtype=object), np.char.zfill(rng.integers(0, 9999, n).astype(str), 4).astype(object),
              np.full(n, " ", dtype=object), np.char.zfill(rng.integers(0, 9999, n).astype(str), 4).astype(object))
    return np.where(chinese, cn, us)
