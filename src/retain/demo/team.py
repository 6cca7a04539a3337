"""The company's own people (reps, CSMs, managers, SDRs, support) and the products it sells."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from retain.demo._base import NO_DAY, Clock, arrow_table, ids, stream
from retain.demo.names import person_names
from retain.demo.spec import PRODUCTS, REGIONS, DemoSpec

REGION_NAMES = tuple(REGIONS)


@dataclass
class Team:
    """Team members plus what only the generator knows: each rep's hidden selling skill."""

    member_id: np.ndarray
    name: np.ndarray
    role: np.ndarray
    region: np.ndarray
    skill: np.ndarray  # hidden: better reps ask more questions, listen more and win more
    table: pa.Table

    def of_role(self, role: str, region: str | None = None) -> np.ndarray:
        mask = self.role == role
        if region is not None:
            mask &= self.region == region
        return np.flatnonzero(mask)


def build_team(spec: DemoSpec, clock: Clock) -> Team:
    rng = stream(spec, "team")
    n_rep = int(np.clip(round(spec.accounts / 110), 4, 300))
    n_csm = int(np.clip(round(spec.accounts / 140), 4, 250))
    n_sdr = max(2, n_rep // 3)
    n_sup = max(2, spec.accounts // 600)
    region_share = np.array([share for _, share in REGIONS.values()])

    def spread(n: int) -> np.ndarray:
        """Regions for ``n`` people: every region gets at least one, the rest by share."""
        base = np.array(REGION_NAMES * (n // len(REGION_NAMES) + 1), dtype=object)[: min(n, len(REGION_NAMES))]
        extra = np.asarray(REGION_NAMES, dtype=object)[rng.choice(len(REGION_NAMES), n - len(base), p=region_share)]
        return np.concatenate([base, extra])

    roles = np.concatenate([
        ["executive"], ["manager"] * 2 * len(REGION_NAMES), ["rep"] * n_rep, ["csm"] * n_csm, ["sdr"] * n_sdr,
        ["support"] * n_sup,
    ]).astype(object)
    regions = np.concatenate([
        [None], np.repeat(np.asarray(REGION_NAMES, dtype=object), 2), spread(n_rep), spread(n_csm), spread(n_sdr),
        spread(n_sup),
    ]).astype(object)
    n = len(roles)
    member_id = ids("tm_", n, 4)
    teams = np.where(np.isin(roles, ["rep", "sdr"]), "sales", np.where(roles == "csm", "customer_success",
                     np.where(roles == "support", "support", "leadership"))).astype(object)
    mgr_rows = np.arange(1, 1 + 2 * len(REGION_NAMES))  # (sales, cs) manager per region
    teams[mgr_rows] = np.tile(np.array(["sales", "customer_success"], dtype=object), len(REGION_NAMES))
    # manager links: managers report to the executive; everyone else to the manager of their team and region
    manager_id = np.full(n, None, dtype=object)
    manager_id[mgr_rows] = member_id[0]
    region_idx = {r: i for i, r in enumerate(REGION_NAMES)}
    for team_name, offset in (("sales", 0), ("customer_success", 1), ("support", 1)):
        rows = np.flatnonzero((teams == team_name) & (roles != "manager"))
        reg = np.array([region_idx[r] for r in regions[rows]], dtype=int) if len(rows) else np.array([], int)
        manager_id[rows] = member_id[1 + 2 * reg + offset]
    chinese = (regions == "china") & (rng.random(n) < 0.85)
    name, local = person_names(rng, n, chinese)
    email = local + np.full(n, "@retain-demo.example.com", dtype=object)
    hired = clock.start - rng.integers(30, 1500, n)
    late_hire = rng.random(n) < 0.15
    hired = np.where(late_hire & (roles != "executive"), clock.start + rng.integers(0, clock.n_days // 2, n), hired)
    skill = np.where(np.isin(roles, ["rep", "sdr", "csm"]), rng.normal(0, 1, n), 0.0)
    table = arrow_table("team_members", {
        "member_id": member_id, "name": name, "role": roles, "email": email, "manager_id": manager_id,
        "team": teams, "region": regions, "hired_on": hired, "left_on": np.full(n, NO_DAY),
    })
    return Team(member_id, name, roles, regions, skill, table)


def products_table(clock: Clock) -> pa.Table:
    launched = clock.start + np.array([p[6] for p in PRODUCTS])
    return arrow_table("products", {
        "product_id": np.array([p[0] for p in PRODUCTS], dtype=object),
        "name": np.array([p[1] for p in PRODUCTS], dtype=object),
        "family": np.array([p[2] for p in PRODUCTS], dtype=object),
        "is_addon": np.array([p[3] for p in PRODUCTS]),
        "list_mrr": np.array([p[4] for p in PRODUCTS]),
        "currency": "USD",
        "launched_on": launched,
    })
