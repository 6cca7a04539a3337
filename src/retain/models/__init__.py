"""Prediction: outcome labels, point-in-time features, propensity models, calibration, backtests and insights."""
