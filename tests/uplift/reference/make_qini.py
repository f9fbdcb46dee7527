"""Write qini.json: Qini and uplift curves and their normalised areas from scikit-uplift.

scikit-uplift is not a dependency of workbench (last release 0.5.1, August 2022); run this
script in a scratch environment that has it:

    python -m venv /tmp/sklift && /tmp/sklift/bin/pip install scikit-uplift==0.5.1
    /tmp/sklift/bin/python tests/uplift/reference/make_qini.py

The inputs are stored beside the outputs, so the test does not depend on a random generator.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import sklift
from sklift.metrics import qini_auc_score, qini_curve, uplift_auc_score, uplift_curve


def case(name: str, y: np.ndarray, t: np.ndarray, s: np.ndarray) -> dict:
    qk, qv = qini_curve(y, s, t)
    uk, uv = uplift_curve(y, s, t)
    return {"name": name, "y": y.tolist(), "treated": t.tolist(), "score": s.tolist(),
            "qini_k": qk.tolist(), "qini": qv.tolist(), "uplift_k": uk.tolist(),
            "uplift": uv.tolist(), "qini_coefficient": float(qini_auc_score(y, s, t)),
            "auuc": float(uplift_auc_score(y, s, t))}


def main() -> None:
    rng = np.random.default_rng(17)
    cases = []
    for name, n, ties, p_t in (("distinct", 80, False, 0.5), ("ties", 120, True, 0.5),
                               ("small_holdout", 150, True, 0.9),
                               ("holdout_responds_more", 90, False, 0.3)):
        x = rng.random(n)
        t = (rng.random(n) < p_t).astype(int)
        y = (rng.random(n) < 0.2 + 0.4 * t * x).astype(int)
        s = x + rng.normal(0, 0.3, n)
        if ties:
            s = np.round(s, 1)
        if name == "holdout_responds_more":
            y = (rng.random(n) < 0.6 - 0.3 * t).astype(int)
        cases.append(case(name, y, t, s))
    out = {"generator": "tests/uplift/reference/make_qini.py",
           "library": f"scikit-uplift {sklift.__version__}", "cases": cases}
    path = Path(__file__).with_name("qini.json")
    path.write_text(json.dumps(out) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
