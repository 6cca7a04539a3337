"""Customer lifetime value: RFM summaries in the engine, buy-till-you-die and contract models, per-customer CLV."""

from retain.clv.base import BaseFitter, ConvergenceError, StatisticalWarning
from retain.clv.beta_geo import BetaGeoFitter
from retain.clv.gamma_gamma import GammaGammaFitter
from retain.clv.pareto_nbd import ParetoNBDFitter
from retain.clv.rfm import Freq, rfm_from_warehouse, rfm_summary

__all__ = [
    "BaseFitter", "BetaGeoFitter", "ConvergenceError", "Freq", "GammaGammaFitter", "ParetoNBDFitter",
    "StatisticalWarning", "rfm_from_warehouse", "rfm_summary",
]
