"""Churn and upsell propensity: LightGBM on point-in-time features, calibrated, with per-account reasons.

A model file is JSON: the booster as text, the logistic calibration's parameters, the category levels and the
:class:`ModelSpec` it was trained on with its hash. Loading with a different spec raises
:class:`ModelMismatchError` instead of scoring with the wrong features.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import ClassVar, Literal

# OpenMP threads that spin while waiting make LightGBM ~50x slower when the cores are shared (CI, a busy
# server); passive waiting costs nothing when they are not. Read when LightGBM's OpenMP runtime loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import lightgbm as lgb  # noqa: E402
import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from retain.errors import ModelError
from retain.models.calibration import LogisticCalibration
from retain.models.features import CATEGORICAL, FEATURES
from retain.models.reasons import reason

FILE_FORMAT = 2  # 2: logistic calibration (1 held isotonic points)


class ModelMismatchError(ModelError):
    """A saved model was trained on another feature/config spec than the one asked for."""


class ModelSpec(BaseModel):
    """What a propensity model is trained on and how; its hash is stored with the model file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    target: Literal["churned", "expanded"]
    horizon_days: int = Field(gt=0)
    features: tuple[str, ...] = tuple(FEATURES)
    categorical: tuple[str, ...] = CATEGORICAL
    num_leaves: int = 15
    learning_rate: float = 0.05
    n_estimators: int = 300
    min_child_samples: int = 40
    subsample: float = 0.8
    colsample: float = 0.8
    reg_lambda: float = 1.0
    seed: int = 42
    num_threads: int = 2

    @property
    def hash(self) -> str:
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def columns(self) -> tuple[str, ...]:
        return self.features + self.categorical


class PropensityModel:
    """Gradient boosting, calibrated on a later validation period by a strictly increasing logistic map of the
    booster's log-odds (so the calibrated probabilities keep the booster's order). Subclasses name the target."""

    target: ClassVar[str]
    horizon_days: ClassVar[int]

    def __init__(self, spec: ModelSpec | None = None) -> None:
        self.spec = spec or ModelSpec(target=self.target, horizon_days=self.horizon_days)

    # -- fitting -------------------------------------------------------------------------------------------

    def fit(self, train: pd.DataFrame, validation: pd.DataFrame) -> PropensityModel:
        """Fit the booster on ``train``; fit the calibration on ``validation`` (a later period)."""
        self._check_columns(train, with_target=True)
        self._check_columns(validation, with_target=True)
        train = train[train[self.target].notna()]
        validation = validation[validation[self.target].notna()]
        y = train[self.target].astype(int).to_numpy()
        if len(np.unique(y)) < 2:
            raise ModelError(f"the training period has only one outcome for '{self.target}'",
                             hint="use more history or a different --as-of")
        self.levels_ = {c: sorted(train[c].astype(str).unique()) for c in self.spec.categorical}
        self.medians_ = train[list(self.spec.features)].median().to_dict()
        s = self.spec
        self.booster_ = lgb.train(
            {
                "objective": "binary", "num_leaves": s.num_leaves, "learning_rate": s.learning_rate,
                "min_data_in_leaf": s.min_child_samples, "bagging_fraction": s.subsample, "bagging_freq": 1,
                "feature_fraction": s.colsample, "lambda_l2": s.reg_lambda, "seed": s.seed,
                "num_threads": s.num_threads, "deterministic": True, "force_row_wise": True, "verbose": -1,
            },
            lgb.Dataset(self._matrix(train), label=y, categorical_feature=list(s.categorical) or "auto"),
            num_boost_round=s.n_estimators,
        )
        self.calibration_ = LogisticCalibration().fit(self.raw_score(validation),
                                                      validation[self.target].astype(int).to_numpy())
        self.train_rows_ = len(train)
        return self

    def _check_columns(self, frame: pd.DataFrame, *, with_target: bool = False) -> None:
        needed = list(self.spec.columns) + ([self.target] if with_target else [])
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise ModelError(f"missing feature columns: {', '.join(missing)}",
                             hint="build the frame with retain.models.dataset.build_frame")

    def _matrix(self, frame: pd.DataFrame) -> pd.DataFrame:
        x = frame[list(self.spec.columns)].copy()
        for col in self.spec.categorical:
            x[col] = pd.Categorical(x[col].astype(str), categories=self.levels_[col])
        for col in self.spec.features:
            x[col] = x[col].astype("float64")
        return x

    def _fitted(self) -> None:
        if not hasattr(self, "booster_"):
            raise ModelError("the model is not fitted", hint="call fit() or load a model file")

    # -- scoring -------------------------------------------------------------------------------------------

    def raw_score(self, frame: pd.DataFrame) -> np.ndarray:
        """Uncalibrated probabilities from the booster."""
        self._fitted()
        self._check_columns(frame)
        return self.booster_.predict(self._matrix(frame), num_threads=self.spec.num_threads)

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of the outcome within the horizon, per row of ``frame``."""
        raw = self.raw_score(frame)
        return self.calibration_.predict(raw)

    def contributions(self, frame: pd.DataFrame) -> pd.DataFrame:
        """LightGBM's own per-feature contributions (log-odds) per row; the bias column is dropped."""
        self._fitted()
        contrib = self.booster_.predict(self._matrix(frame), pred_contrib=True, num_threads=self.spec.num_threads)
        return pd.DataFrame(contrib[:, :-1], columns=list(self.spec.columns), index=frame.index)

    def reasons(self, frame: pd.DataFrame, top: int = 3, protective: int = 2) -> list[str]:
        """Per row, JSON text: the ``top`` features pushing the outcome up, then the ``protective`` ones pushing it
        down, as {feature, phrase, contribution, direction}; phrases in plain words (:mod:`retain.models.reasons`)
        compare the account with the median of its segment."""
        contrib = self.contributions(frame)
        values = contrib.to_numpy()
        names = np.array(contrib.columns)
        up = np.argsort(-values, axis=1)[:, :top]
        down = np.argsort(values, axis=1)[:, :protective]
        picked = np.concatenate([up, down], axis=1)
        picked_values = np.take_along_axis(values, picked, axis=1)
        keep = np.concatenate([picked_values[:, :top] > 0, picked_values[:, top:] < 0], axis=1)
        feats = list(self.spec.features)
        cells = frame[feats].astype("float64").reset_index(drop=True)
        groups = frame[self.spec.categorical[0]].astype(str).to_numpy() if self.spec.categorical else None
        peers = cells.groupby(groups).transform("median") if groups is not None else cells.median()
        rows = cells.to_dict("records")
        cats = {c: frame[c].to_numpy() for c in self.spec.categorical}
        peer_rows = peers.to_dict("records") if groups is not None else [peers.to_dict()] * len(rows)
        out = []
        for i, (cols, vals, ok) in enumerate(zip(names[picked], picked_values, keep, strict=True)):
            items = []
            for f, v in zip(cols[ok], vals[ok], strict=True):
                value = cats[f][i] if f in cats else rows[i][f]
                items.append(reason(str(f), float(v), value, rows[i], peer_rows[i].get(f)))
            out.append(json.dumps(items))
        return out

    # -- persistence ---------------------------------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        self._fitted()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "format": FILE_FORMAT,
            "model": type(self).__name__,
            "spec": self.spec.model_dump(mode="json"),
            "spec_hash": self.spec.hash,
            "levels": self.levels_,
            "medians": self.medians_,
            "calibration": self.calibration_.to_dict(),
            "train_rows": self.train_rows_,
            "booster": self.booster_.model_to_string(),
        }
        path.write_text(json.dumps(payload))
        return path

    @classmethod
    def load(cls, path: str | Path, spec: ModelSpec | None = None) -> PropensityModel:
        """Load a model file; refuse it when it was trained on another spec than ``spec`` (default: ours)."""
        path = Path(path)
        try:
            payload = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot read model file {path}: {exc}", hint="run `retain train`") from exc
        model = cls(spec)
        if payload.get("format") != FILE_FORMAT or payload.get("model") != cls.__name__:
            raise ModelMismatchError(f"{path} is not a {cls.__name__} file of format {FILE_FORMAT}",
                                     hint="retrain with `retain train`")
        if payload.get("spec_hash") != model.spec.hash:
            raise ModelMismatchError(
                f"{path} was trained on spec {payload.get('spec_hash')}, but this Retain expects {model.spec.hash}",
                hint="the features or settings changed since training: run `retain train` again",
            )
        model.levels_ = payload["levels"]
        model.medians_ = payload["medians"]
        model.train_rows_ = payload["train_rows"]
        model.booster_ = lgb.Booster(model_str=payload["booster"])
        model.calibration_ = LogisticCalibration.from_dict(payload["calibration"])
        return model


class ChurnModel(PropensityModel):
    """P(no subscription in service 90 days after ``as_of``) for customers at ``as_of``."""

    target = "churned"
    horizon_days = 90


class UpsellModel(PropensityModel):
    """P(higher MRR or a new product within 180 days after ``as_of``)."""

    target = "expanded"
    horizon_days = 180


# -- the model chosen by validation (retain.models.selection) --------------------------------------------------

CHOSEN_FORMAT = 3


class ChosenModel:
    """The candidate that won validation, refitted on every labelled row, with a logistic calibration fitted on its
    out-of-sample predictions (so the probabilities match what happened on dates it had not seen) and reasons.

    Reasons come from the chosen model's own contributions (logistic: coefficient x standardised value; LightGBM:
    SHAP values), summed over each group of correlated features (the frame's ``groups``) and told by the group's
    largest feature. The scorecard has no per-feature contributions: when it wins, reasons come from a logistic
    regression fitted on the same rows (``explainer``)."""

    def __init__(self, model, calibration: LogisticCalibration, *, outcome: str, label: str, horizon_days: int,
                 source: str, features: tuple[str, ...], categorical: tuple[str, ...], groups: dict[str, str],
                 explainer=None, summary: dict | None = None) -> None:
        self.model, self.calibration_ = model, calibration
        self.outcome, self.label, self.horizon_days, self.source = outcome, label, horizon_days, source
        self.features, self.categorical, self.groups = tuple(features), tuple(categorical), dict(groups)
        self.explainer = explainer
        self.summary = summary or {}

    @property
    def kind(self) -> str:
        return self.model.kind.value

    @property
    def train_rows_(self) -> int:
        return int(self.summary.get("train_rows", 0))

    @classmethod
    def fit(cls, mf, selection, *, outcome: str, seed: int = 0, max_train_rows: int = 300_000) -> ChosenModel:
        from retain.models.candidates import Kind
        from retain.models.selection import fit_candidate, sample_rows

        frame = mf.labelled().frame
        rows = sample_rows(np.arange(len(frame)), max_train_rows, seed)
        train = frame.iloc[rows]
        model = fit_candidate(selection.chosen, mf, train, seed=seed)
        explainer = fit_candidate(Kind.LOGISTIC, mf, train, seed=seed) if selection.chosen is Kind.SCORECARD else None
        oof = selection.oof
        calibration = LogisticCalibration().fit(oof[selection.chosen.value].to_numpy(), oof["y"].to_numpy())
        table = selection.table.to_dict("records")
        summary = {"train_rows": len(train), "positives": int(train[mf.label].sum()), "scheme":
                   selection.plan.scheme.value, "why": selection.why, "table": table,
                   "trained_until": str(max(frame["as_of"]))}
        return cls(model, calibration, outcome=outcome, label=mf.label, horizon_days=mf.horizon_days,
                   source=str(mf.source), features=mf.features, categorical=mf.categorical, groups=mf.groups,
                   explainer=explainer, summary=summary)

    def _check(self, frame: pd.DataFrame) -> None:
        missing = [c for c in self.features + self.categorical if c not in frame.columns]
        if missing:
            raise ModelMismatchError(
                f"the {self.outcome} model was trained on features this data no longer has: {', '.join(missing[:5])}",
                hint="run `retain train` again")

    def raw_score(self, frame: pd.DataFrame) -> np.ndarray:
        self._check(frame)
        return self.model.raw_score(frame)

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        return self.calibration_.predict(self.raw_score(frame))

    def contributions(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Per row, log-odds contributions summed per group of correlated features."""
        self._check(frame)
        source = self.explainer if self.explainer is not None else self.model
        contrib = source.contributions(frame)
        owner = [self.groups.get(c, c) for c in contrib.columns]
        return contrib.T.groupby(np.array(owner), sort=False).sum().T

    def reasons(self, frame: pd.DataFrame, top: int = 3, protective: int = 2) -> list[str]:
        """Per row, JSON text: up to ``top`` groups raising the risk then ``protective`` lowering it, each as
        {feature, phrase, contribution, direction}, told by the group's largest feature in plain words."""
        from retain.models.reasons import describe

        source = self.explainer if self.explainer is not None else self.model
        per_feature = source.contributions(frame)
        grouped = self.contributions(frame)
        values, names = grouped.to_numpy(), np.array(grouped.columns)
        up = np.argsort(-values, axis=1)[:, :top]
        down = np.argsort(values, axis=1)[:, :protective]
        # the feature telling each group: the member with the largest |contribution| in that row
        members: dict[str, list[str]] = {}
        for col in per_feature.columns:
            members.setdefault(self.groups.get(col, col), []).append(col)
        pf = per_feature.to_numpy()
        col_at = {c: i for i, c in enumerate(per_feature.columns)}
        numeric = [c for c in self.features if c in frame.columns]
        peers = frame[numeric].astype("float64").median().to_dict()
        cells = {c: frame[c].to_numpy() for c in self.features + self.categorical}
        out = []
        for i in range(len(frame)):
            items = []
            for j, keep in [(j, values[i, j] > 0) for j in up[i]] + [(j, values[i, j] < 0) for j in down[i]]:
                if not keep:
                    continue
                cols = members[names[j]]
                feat = max(cols, key=lambda c: abs(pf[i, col_at[c]])) if len(cols) > 1 else cols[0]
                # only templates that quote another feature ("... of {licences} seats") need the whole row
                row = {c: cells[c][i] for c in numeric} if feat in NEEDS_ROW else None
                items.append(reason_item(feat, float(values[i, j]),
                                         describe(feat, cells[feat][i], peers.get(feat), row)))
            out.append(json.dumps(items))
        return out

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"format": CHOSEN_FORMAT, "model": "ChosenModel", "outcome": self.outcome, "label": self.label,
                   "horizon_days": self.horizon_days, "source": self.source, "features": list(self.features),
                   "categorical": list(self.categorical), "groups": self.groups,
                   "candidate": self.model.to_dict(), "calibration": self.calibration_.to_dict(),
                   "explainer": None if self.explainer is None else self.explainer.to_dict(),
                   "summary": self.summary}
        path.write_text(json.dumps(payload, default=str))
        return path

    @classmethod
    def load(cls, path: str | Path) -> ChosenModel:
        from retain.models.candidates import from_dict

        path = Path(path)
        try:
            payload = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot read model file {path}: {exc}", hint="run `retain train`") from exc
        if payload.get("format") != CHOSEN_FORMAT or payload.get("model") != "ChosenModel":
            raise ModelMismatchError(f"{path} is a model file of an older Retain (format {payload.get('format')})",
                                     hint="retrain with `retain train`")
        return cls(from_dict(payload["candidate"]), LogisticCalibration.from_dict(payload["calibration"]),
                   outcome=payload["outcome"], label=payload["label"], horizon_days=payload["horizon_days"],
                   source=payload["source"], features=tuple(payload["features"]),
                   categorical=tuple(payload["categorical"]), groups=payload["groups"],
                   explainer=None if payload["explainer"] is None else from_dict(payload["explainer"]),
                   summary=payload["summary"])


def _needs_row() -> frozenset[str]:
    from retain.models.reasons import TEMPLATES

    return frozenset(f for f, t in TEMPLATES.items() if "{" in t.says.replace("{v}", ""))


NEEDS_ROW = _needs_row()


def reason_item(feature: str, contribution: float, text: str) -> dict:
    from retain.models.reasons import Direction

    return {"feature": feature, "phrase": text, "contribution": round(contribution, 4),
            "direction": (Direction.RAISES if contribution > 0 else Direction.LOWERS).value}
