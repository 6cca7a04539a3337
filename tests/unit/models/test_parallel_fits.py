"""Validation fits run side by side (one thread each): the scores must be those of fitting them one after another,
in order; a failing fit must surface; BLAS must be left as it was."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from synthetic import model_frame

from retain.models import parallel
from retain.models.candidates import Kind
from retain.models.selection import out_of_fold
from retain.models.validation import plan_folds


def test_results_come_back_in_the_order_of_the_items_and_run_on_several_threads(monkeypatch):
    monkeypatch.setattr(parallel, "workers", lambda: 2)
    seen, ready = set(), threading.Barrier(2, timeout=10)

    def fit(i: int) -> int:
        seen.add(threading.get_ident())
        if i < 2:
            ready.wait()  # only passes when two fits run at once
        return i * i

    assert parallel.map_fits(fit, range(6)) == [0, 1, 4, 9, 16, 25]
    assert len(seen) == 2


def test_the_first_failing_fit_raises(monkeypatch):
    monkeypatch.setattr(parallel, "workers", lambda: 2)

    def fit(i: int) -> int:
        if i == 3:
            raise ValueError("fold 3")
        return i

    with pytest.raises(ValueError, match="fold 3"):
        parallel.map_fits(fit, range(5))


def test_one_core_fits_in_turn(monkeypatch):
    monkeypatch.setattr(parallel, "workers", lambda: 1)
    threads = set()
    assert parallel.map_fits(lambda i: threads.add(threading.get_ident()) or i, range(3)) == [0, 1, 2]
    assert threads == {threading.get_ident()}


def test_every_candidate_scores_the_same_side_by_side_as_in_turn(monkeypatch):
    mf = model_frame(n_accounts=400, n_dates=10, signal="nonlinear", seed=3)
    plan = plan_folds(mf, seed=0, max_folds=4)
    kinds = (Kind.LOGISTIC, Kind.FITTED_SCORECARD, Kind.LIGHTGBM)
    assert len(plan.folds) > 1
    monkeypatch.setattr(parallel, "workers", lambda: 1)
    in_turn = out_of_fold(mf, plan, kinds)
    monkeypatch.setattr(parallel, "workers", lambda: 3)
    side_by_side = out_of_fold(mf, plan, kinds)
    for kind in kinds:
        assert np.isfinite(in_turn[kind.value]).all()
        np.testing.assert_array_equal(side_by_side[kind.value], in_turn[kind.value])


def test_blas_threads_are_as_they_were_after_the_pool(monkeypatch):
    from threadpoolctl import threadpool_info

    def blas() -> list[int]:
        return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]

    before = blas()
    monkeypatch.setattr(parallel, "workers", lambda: 2)
    inside = parallel.map_fits(lambda _: blas(), range(4))
    assert all(set(threads) == {1} for threads in inside)
    assert blas() == before
