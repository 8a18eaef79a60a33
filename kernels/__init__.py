"""Numba kernels of `accrual`, over plain NumPy arrays (imported as `accrual.kernels`).

Money is integer fen (int64), dates are days since 1970-01-01 (int32), rates are integers
scaled by `RATE_SCALE` so that every interest amount is an exact fraction rounded once.
Kernels never see a DataFrame and never allocate per loan.
"""
