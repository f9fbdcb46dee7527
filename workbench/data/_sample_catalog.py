"""The synthetic shop's catalogue: about 200 Korean products in five categories.

Consumables (beauty, food, pet) carry ``replenish_days``, the typical time until the customer
runs out; fashion and living goods have none. Popularity within a category falls off like a
Zipf law, so a few products sell most, as in real shops.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from workbench.data._sample_base import ids

#: Category, share of customers who prefer it, products in it.
CATEGORIES = (("beauty", 0.32), ("food", 0.20), ("pet", 0.14), ("living", 0.14),
              ("fashion", 0.20))
PER_CATEGORY = 40

# (item, base price in KRW, replenish days or None)
_ITEMS = {
    "beauty": (("토너", 18_000, 45), ("에센스", 28_000, 60), ("세럼", 32_000, 60),
               ("수분크림", 26_000, 60), ("선크림", 19_000, 45), ("클렌징폼", 14_000, 30),
               ("클렌징오일", 22_000, 45), ("시트 마스크 10매", 15_000, 30),
               ("립밤", 9_000, 60), ("앰플", 35_000, 60)),
    "food": (("닭가슴살 10팩", 19_900, 30), ("그릭요거트 1kg", 15_900, 14),
             ("견과류 믹스 30봉", 24_900, 30), ("현미 4kg", 21_900, 30),
             ("콤부차 30포", 18_900, 30), ("단백질 쉐이크", 32_900, 30),
             ("포기김치 2kg", 17_900, 30), ("그래놀라", 12_900, 30), ("콜드브루 원액", 16_900, 30),
             ("곤약젤리 10팩", 13_900, 14)),
    "pet": (("강아지 사료 2kg", 32_000, 30), ("고양이 사료 2kg", 34_000, 30),
            ("고양이 모래 6L", 14_000, 30), ("배변패드 100매", 19_000, 30),
            ("츄르 20개입", 12_000, 14), ("덴탈껌 30개", 15_000, 30), ("관절 영양제", 29_000, 60),
            ("간식 트릿", 9_900, 30)),
    "living": (("디퓨저 200ml", 29_000, None), ("호텔 수건 5장", 35_000, None),
               ("텀블러 500ml", 24_000, None), ("극세사 이불", 89_000, None),
               ("원목 트레이", 19_000, None), ("무드등", 39_000, None),
               ("수납 바구니", 15_000, None), ("욕실 매트", 22_000, None)),
    "fashion": (("오버핏 티셔츠", 29_000, None), ("린넨 셔츠", 45_000, None),
                ("와이드 슬랙스", 49_000, None), ("니트 가디건", 59_000, None),
                ("데님 팬츠", 55_000, None), ("양말 5족 세트", 12_900, None),
                ("후드 집업", 62_000, None), ("캔버스 에코백", 19_000, None)),
}
_PREFIXES = {
    "beauty": ("어성초", "시카", "히알루론", "비타C", "병풀", "녹차", "세라마이드", "마데카"),
    "food": ("국내산", "유기농", "저당", "프리미엄", "산지직송", "무첨가"),
    "pet": ("그레인프리", "연어", "오리", "소고기", "저알러지", "시니어"),
    "living": ("북유럽", "모던", "내추럴", "호텔식", "미니멀"),
    "fashion": ("베이직", "데일리", "빈티지", "시그니처", "코지"),
}
_OPTIONS = {
    "beauty": ("50ml", "100ml", "대용량", "본품+리필"),
    "food": ("1개", "2개 묶음", "3개 묶음"),
    "pet": ("소형견용", "중대형견용", "전연령", "1개"),
    "living": ("화이트", "그레이", "베이지", "네이비"),
    "fashion": ("블랙 / S", "블랙 / M", "블랙 / L", "아이보리 / M", "네이비 / L", "그레이 / FREE"),
}
#: Search queries people type, by category, plus general ones.
QUERIES = {
    "beauty": ("수분크림", "선크림 추천", "민감성 토너", "시카 크림", "클렌징", "마스크팩",
               "비타민 세럼", "지성 피부 토너"),
    "food": ("닭가슴살", "다이어트 간식", "그릭요거트", "견과류", "단백질 쉐이크", "현미",
             "저당 간식"),
    "pet": ("강아지 사료", "고양이 모래", "배변패드", "츄르", "강아지 간식", "고양이 사료"),
    "living": ("디퓨저", "수건", "텀블러", "이불", "수납", "무드등"),
    "fashion": ("반팔 티", "린넨 셔츠", "슬랙스", "가디건", "양말", "에코백"),
    "any": ("세일", "신상품", "베스트", "무료배송", "쿠폰", "기획전"),
}


@dataclass(frozen=True, slots=True)
class Catalog:
    """The catalogue as arrays indexed by product number (sorted by category, then popularity)."""

    product_id: pa.Array
    name: pa.Array
    category: np.ndarray  # int, index into CATEGORIES
    category_names: pa.Array  # per product
    price: np.ndarray
    replenish_days: np.ndarray  # float, NaN for durables
    popularity_cdf: np.ndarray  # category index + within-category CDF, for searchsorted
    option_start: np.ndarray  # per product: first option in ``options`` (or -1: no options)
    option_count: np.ndarray
    options: pa.Array
    queries: pa.Array
    query_start: np.ndarray  # per category (and "any" last)
    query_count: np.ndarray

    def table(self) -> pa.Table:
        """Return the ``products`` table."""
        return pa.table({
            "product_id": self.product_id,
            "name": self.name,
            "category": self.category_names,
            "price": pa.array(self.price, type=pa.float64()),
            "replenish_days": pa.array(np.nan_to_num(self.replenish_days).astype(np.int64),
                                       mask=np.isnan(self.replenish_days)),
        })

    def sample(self, rng: np.random.Generator, category: np.ndarray) -> np.ndarray:
        """Draw one product per row from the given categories, weighted by popularity."""
        return np.searchsorted(self.popularity_cdf, category + rng.random(len(category)),
                               side="right")

    def option(self, rng: np.random.Generator, product: np.ndarray) -> tuple[np.ndarray,
                                                                              np.ndarray]:
        """Draw an option index per row; returns (index into ``options``, null mask)."""
        start = self.option_start[product]
        pick = start + (rng.random(len(product)) * self.option_count[product]).astype(np.int64)
        return np.maximum(pick, 0), start < 0


def _price(base: float, factor: np.ndarray) -> np.ndarray:
    # Korean shops price just below a round thousand (23,900원), cheap items by the hundred.
    raw = base * factor
    return np.where(raw >= 10_000, np.ceil(raw / 1000) * 1000 - 100, np.ceil(raw / 100) * 100)


def build_catalog(rng: np.random.Generator) -> Catalog:
    """Build the catalogue from its own generator (the same for every customer count)."""
    names, cats, prices, days, opt_start, opt_count = [], [], [], [], [], []
    options: list[str] = []
    option_base = {}
    for cat, _share in CATEGORIES:
        option_base[cat] = len(options)
        options.extend(_OPTIONS[cat])
    cdf = []
    for ci, (cat, _share) in enumerate(CATEGORIES):
        items, prefixes = _ITEMS[cat], _PREFIXES[cat]
        combos = [(p, i) for i in range(len(items)) for p in range(len(prefixes))]
        chosen = rng.permutation(len(combos))[:PER_CATEGORY]
        factor = rng.uniform(0.8, 1.3, PER_CATEGORY)
        has_option = rng.random(PER_CATEGORY) < 0.7
        for k, c in enumerate(chosen):
            p, i = combos[c]
            item, base, replenish = items[i]
            names.append(f"{prefixes[p]} {item}")
            cats.append(ci)
            prices.append(float(_price(base, factor[k])))
            days.append(np.nan if replenish is None else float(replenish))
            opt_start.append(option_base[cat] if has_option[k] else -1)
            opt_count.append(len(_OPTIONS[cat]))
        popularity = 1.0 / np.arange(1, PER_CATEGORY + 1) ** 0.8
        cdf.append(ci + np.cumsum(popularity) / popularity.sum())
    cdf_all = np.concatenate(cdf)
    cdf_all[PER_CATEGORY - 1::PER_CATEGORY] = np.arange(1, len(CATEGORIES) + 1)
    queries: list[str] = []
    q_start, q_count = [], []
    for key in [c for c, _ in CATEGORIES] + ["any"]:
        q_start.append(len(queries))
        q_count.append(len(QUERIES[key]))
        queries.extend(QUERIES[key])
    n = len(names)
    cat_labels = pa.array([c for c, _ in CATEGORIES])
    cat_idx = np.array(cats)
    return Catalog(
        product_id=ids("P", np.arange(1, n + 1), 4),
        name=pa.array(names),
        category=cat_idx,
        category_names=cat_labels.take(pa.array(cat_idx)),
        price=np.array(prices),
        replenish_days=np.array(days),
        popularity_cdf=cdf_all,
        option_start=np.array(opt_start),
        option_count=np.array(opt_count),
        options=pa.array(options),
        queries=pa.array(queries),
        query_start=np.array(q_start),
        query_count=np.array(q_count),
    )
