"""Compute log I of the Pareto/NBD likelihood with mpmath for the node-rule tests.

Run from the repository root with any Python that has mpmath (nothing here imports
workbench, numpy or scipy)::

    python -m venv /tmp/mpvenv && /tmp/mpvenv/bin/pip install mpmath
    /tmp/mpvenv/bin/python tests/clv/reference/make_pareto_nodes_reference.py

It writes ``tests/clv/reference/pareto_nbd_nodes.json``: for seeded random customers and
parameters (CDNOW-like, the 100k sample's fit, and a broad range), the logarithm of

    I = int_{t_x}^{T} (alpha+y)^-(r+x) (beta+y)^-(s+1) dy

from the Gauss hypergeometric solution (eq. (22) of Fader & Hardie 2005, note 009)
evaluated at 60 digits: with ``kappa = max(alpha, beta)``, ``m = r+s+x``, ``a = s+1`` when
``alpha >= beta`` else ``r+x``,

    int_t^inf ... dy = (kappa+t)^-m / m * 2F1(a, m; m+1; |alpha-beta| / (kappa+t)),

and ``I`` is its value at ``t_x`` minus its value at ``T`` (60 digits absorb the
cancellation). The cases span every node count of ``workbench.clv.pareto_nbd._node_counts``
(the test checks that).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import mpmath as mp

OUT = Path(__file__).with_name("pareto_nbd_nodes.json")
mp.mp.dps = 60


def log_integral(x: int, tx: float, T: float, r: float, alpha: float, s: float,
                 beta: float) -> float:
    """Return ln I at 60 digits (rounded to a float)."""
    x, tx, T, r, alpha, s, beta = (mp.mpf(v) for v in (x, tx, T, r, alpha, s, beta))
    m = r + s + x
    kappa = max(alpha, beta)
    a = s + 1 if alpha >= beta else r + x
    gap = abs(alpha - beta)

    def tail(t):
        return (kappa + t) ** (-m) / m * mp.hyp2f1(a, m, m + 1, gap / (kappa + t))

    return float(mp.log(tail(tx) - tail(T)))


def cases() -> list[list[float]]:
    """Seeded random customers under three parameter sets."""
    rng = random.Random(19)
    thetas = [(0.553, 10.578, 0.606, 11.669), (0.2767, 0.8813, 0.3545, 17.46)]
    out = []
    for _ in range(60):
        theta = rng.choice(thetas)
        T = rng.uniform(0.5, 104)
        x = rng.choice([0, 1, 2, 3, 5, 8, 13, 20, 40, 80, 150, 298])
        tx = 0.0 if x == 0 else T * rng.random() ** rng.choice([0.1, 1, 3])
        out.append([x, round(tx, 6), round(T, 6), *theta])
    for _ in range(90):
        r, s = (10 ** rng.uniform(-1.5, 1) for _ in range(2))
        alpha, beta = (10 ** rng.uniform(-1.5, 2) for _ in range(2))
        T = 10 ** rng.uniform(-0.5, 2.5)
        x = rng.choice([0, 1, 2, 5, 10, 30, 100, 300])
        tx = 0.0 if x == 0 else T * rng.random() ** rng.choice([0.1, 1, 3])
        out.append([x, round(tx, 6), round(T, 6), round(r, 6), round(alpha, 6), round(s, 6),
                    round(beta, 6)])
    return [c for c in out if c[1] < c[2]]


def main() -> None:
    rows = [{"case": c, "log_integral": log_integral(*c)} for c in cases()]
    OUT.write_text(json.dumps({"source": "make_pareto_nodes_reference.py (mpmath, 60 digits)",
                               "cases": rows}, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(rows)} cases to {OUT}")


if __name__ == "__main__":
    main()
