"""Standardisation of table features: a constant column maps to 0, whatever its floating-point value."""

import numpy as np

from nnkit.data.preprocessing import apply_preprocessing, fit_standardize


def test_a_constant_feature_is_constant_even_when_its_std_is_rounding_noise():
    x = np.column_stack([np.linspace(-1.0, 1.0, 120), np.full(120, 0.1)])
    assert np.std(x[:, 1]) > 0  # 0.1 summed 120 times: a std of 1.4e-17, not 0
    spec = fit_standardize(x)
    assert spec["std"][1] == 1.0 and spec["mean"][1] == 0.1
    new = np.array([[0.0, 0.1], [0.0, 0.2]])
    np.testing.assert_allclose(apply_preprocessing(new, spec)[:, 1], [0.0, 0.1], atol=1e-15)
