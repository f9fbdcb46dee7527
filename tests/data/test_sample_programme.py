"""The sample's CRM programme: coupons, pull-forward and heterogeneous effects in the truth."""

from __future__ import annotations

import datetime as dt
import math

import duckdb
import numpy as np
import pytest
from scipy import stats

from workbench.data._sample_campaigns import (
    COUPON_USE,
    RESPONSIVENESS_SIGMA,
    in_global_holdout,
)
from workbench.data.sample import generate_sample

END = dt.date(2026, 11, 16)


@pytest.fixture(scope="module")
def shop(sample_store):
    con = duckdb.connect(str(sample_store), read_only=True)
    con.execute("SET TimeZone = 'Asia/Seoul'")
    yield con
    con.close()


def one(con, sql: str):
    return con.execute(sql).fetchone()[0]


def test_the_programme_depends_on_the_seed_not_on_the_shop_size():
    def campaigns(customers: int, seed: int):
        return next(t for name, t in generate_sample(customers, seed=seed, end=END)
                    if name == "campaigns")

    small, large = campaigns(50, 5), campaigns(400, 5)
    assert small.equals(large)
    assert not small.equals(campaigns(50, 6))
    ids = small["campaign_id"].to_pylist()
    assert all(i in ("CMP001", "CMP002") or i[:2] in ("P2", "P1") for i in ids)
    # about two a month over two years, besides the two A/B tests
    assert 40 <= len(ids) <= 50


def test_the_global_holdout_hash_is_the_abtest_one():
    from workbench.abtest import in_global_holdout as reference

    ids = [f"C{i:07d}" for i in range(1, 3001)]
    assert in_global_holdout(ids).tolist() == reference(ids, 0.05).tolist()


def test_coupon_cost_in_the_truth_is_what_the_orders_show(shop):
    # Each arm's coupon is its own code: its net discounts in the window are the realised cost.
    rows = shop.execute("""
        WITH arm AS (
            SELECT t.campaign_id, t.variant, t.coupon_code, t.coupon_cost_total,
                   t.coupon_cost_anyway, c.started_at, c.ended_at
            FROM truth_campaigns t JOIN campaigns c USING (campaign_id)
            WHERE t.coupon_code IS NOT NULL),
        used AS (
            SELECT arm.campaign_id, arm.variant, sum(o.discount) AS cost,
                   count(*) FILTER (WHERE a.customer_id IS NULL OR o.ordered_at < arm.started_at
                                    OR o.ordered_at >= arm.ended_at) AS stray
            FROM arm JOIN orders o ON o.coupon_code = arm.coupon_code
            LEFT JOIN assignments a ON a.campaign_id = arm.campaign_id
                AND a.variant = arm.variant AND a.customer_id = o.customer_id
            WHERE o.status IN ('paid', 'shipped', 'delivered', 'confirmed')
            GROUP BY ALL)
        SELECT arm.coupon_cost_total, coalesce(used.cost, 0), coalesce(used.stray, 0),
               arm.coupon_cost_anyway
        FROM arm LEFT JOIN used USING (campaign_id, variant)""").fetchall()
    assert len(rows) >= 15
    for total, cost, stray, anyway in rows:
        assert total == pytest.approx(cost) and stray == 0
        assert 0 <= anyway <= total
    # a good part of the cost goes to orders that would have come anyway
    assert 0.3 <= sum(r[3] for r in rows) / sum(r[0] for r in rows) <= 0.95


def test_treated_orders_in_the_window_use_the_coupon_with_the_known_probability(shop):
    used, n = shop.execute("""
        SELECT count(*) FILTER (WHERE o.coupon_code = t.coupon_code), count(*)
        FROM truth_campaigns t JOIN campaigns c USING (campaign_id)
        JOIN messages m ON m.campaign_id = t.campaign_id AND m.variant = t.variant
        JOIN orders o ON o.customer_id = m.customer_id AND o.ordered_at >= m.sent_at
            AND o.ordered_at < c.ended_at
        WHERE t.coupon_code IS NOT NULL""").fetchone()
    se = math.sqrt(COUPON_USE * (1 - COUPON_USE) / n)
    assert n > 300 and abs(used / n - COUPON_USE) < 4 * se


def test_pull_forward_truth(shop):
    holdout, treated, revenue, days = shop.execute("""
        SELECT sum(pull_forward_orders) FILTER (WHERE variant = 'holdout'),
               sum(pull_forward_orders) FILTER (WHERE variant != 'holdout'),
               sum(pull_forward_revenue) FILTER (WHERE variant != 'holdout'),
               min(pull_forward_days) FROM truth_campaigns""").fetchone()
    assert holdout == 0 and treated > 0 and days == 30
    assert 30_000 <= revenue / treated <= 90_000  # removed orders are ordinary orders


def test_pull_forward_shows_as_a_dip_after_the_window(shop):
    # Pooled over every arm: holdout minus treated net orders per customer in the 30 days
    # after the campaign's end, times the treated customers, estimates the orders removed.
    diff, var, truth = shop.execute("""
        WITH w AS (
            SELECT a.campaign_id, a.variant, a.customer_id, c.ended_at,
                   count(o.order_id) AS n
            FROM assignments a JOIN campaigns c USING (campaign_id)
            LEFT JOIN orders o ON o.customer_id = a.customer_id
                AND o.status IN ('paid', 'shipped', 'delivered', 'confirmed')
                AND o.ordered_at >= c.ended_at AND o.ordered_at < c.ended_at + INTERVAL 30 DAY
            WHERE c.ended_at + INTERVAL 30 DAY <= TIMESTAMPTZ '2026-11-16 00:00:00+09'
            GROUP BY ALL),
        arm AS (SELECT campaign_id, variant, count(*) k, avg(n) m, var_samp(n) v FROM w
                GROUP BY ALL),
        pair AS (SELECT t.campaign_id, t.k, t.m - h.m AS d,
                        t.k * t.k * (t.v / t.k + h.v / h.k) AS var
                 FROM arm t JOIN arm h ON h.campaign_id = t.campaign_id
                     AND h.variant = 'holdout' AND t.variant != 'holdout'
                 WHERE h.k >= 2 AND t.k >= 2)
        SELECT sum(-d * k), sum(var), (SELECT sum(pull_forward_orders) FROM truth_campaigns
            JOIN campaigns c USING (campaign_id)
            WHERE c.ended_at + INTERVAL 30 DAY <= TIMESTAMPTZ '2026-11-16 00:00:00+09')
        FROM pair""").fetchone()
    assert abs(diff - truth) < 4 * math.sqrt(var)


def test_true_uplift_is_heterogeneous_and_not_just_churn(shop):
    frame = shop.execute("""
        SELECT is_alive, responsiveness, true_relative_uplift, true_uplift, churn_prob_90d
        FROM truth_customers""").fetchdf()
    dead = frame[~frame.is_alive]
    assert (dead["true_uplift"] == 0).all() and (dead["true_relative_uplift"] == 0).all()
    assert frame["true_uplift"].between(0, 1).all()
    log_r = np.log(frame["responsiveness"])
    assert log_r.std() == pytest.approx(RESPONSIVENESS_SIGMA, rel=0.1)
    assert frame["responsiveness"].mean() == pytest.approx(1.0, abs=0.06)
    alive = frame[frame.is_alive]
    assert alive["true_uplift"].mean() > 0.005
    # the relative uplift is the standard 0.15 times responsiveness times a segment multiplier
    ratio = alive["true_relative_uplift"] / (0.15 * alive["responsiveness"])
    assert set(np.round(ratio, 9)) <= {0.5, 1.0, 1.6, 1.8}

    def rho(a, b) -> float:
        return stats.spearmanr(a, b).statistic

    # relative: mostly the latent trait, barely churn; absolute: also the base chance to buy
    assert rho(alive["true_relative_uplift"], alive["responsiveness"]) > 0.7
    assert abs(rho(alive["true_relative_uplift"], alive["churn_prob_90d"])) < 0.5
    assert rho(alive["true_uplift"], alive["responsiveness"]) > 0.1
    assert rho(alive["true_uplift"], -alive["churn_prob_90d"]) < 0.95
