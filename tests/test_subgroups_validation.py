"""audit_subgroups refuses bad parameters and data with messages that say what was expected."""

import re

import numpy as np
import pandas as pd
import pytest

from core._params import MSG_PARAMETER
from core.fairness import audit as subgroups

Y = np.array([0, 1] * 50)
P = np.linspace(0.05, 0.95, 100)
G = pd.DataFrame({"sex": ["female", "male"] * 50})


def _message(name, expected, got):
    return re.escape(MSG_PARAMETER.format(name=name, owner="audit_subgroups",
                                                    expected=expected, got=got))


@pytest.mark.parametrize("params, err_msg", [
    ({"task": "survival"}, _message("task", "one of 'binary', 'regression'", "survival")),
    ({"n_boot": -1}, _message("n_boot", "an int in the range [0, 100000]", -1)),
    ({"n_boot": 2.5}, _message("n_boot", "an int in the range [0, 100000]", 2.5)),
    ({"seed": "x"}, _message("seed", "an int >= 0", "x")),
    ({"confidence": 95}, _message("confidence", "a float in the open interval (0, 1)", 95)),
    ({"intersections": "yes"}, _message("intersections", "True or False", "yes")),
    ({"min_group_size": {"patients": 5}}, _message(
        "min_group_size", "None, an int >= 1 (patients) or a dict with keys 'n' and/or 'events' (ints >= 1)",
        {"patients": 5})),
])
def test_parameter_errors(params, err_msg):
    with pytest.raises(ValueError, match=err_msg):
        subgroups.audit_subgroups(Y, P, G, **params)


@pytest.mark.parametrize("args, kwargs, err_type, err_msg", [
    ((Y, P, G.to_dict()), {}, TypeError, "groups must be a pandas DataFrame"),
    ((Y, P, G.iloc[:10]), {}, ValueError, "groups has 10 values but y_true has 100"),
    ((Y, P, G.assign(sex=[None] + ["male"] * 99)), {}, ValueError,
     re.escape("The 'sex' column of groups has 1 missing value(s), first at position 0")),
    ((Y, P, G[[]]), {}, ValueError, "groups must have at least one column"),
    ((Y, P * 2, G), {}, ValueError, re.escape("y_pred must hold probabilities in [0, 1]")),
    ((Y * 2, P, G), {}, ValueError, "y_true must hold only 0 and 1. Got 2.0 instead"),
    ((Y[:0], P[:0], G.iloc[:0]), {}, ValueError, "y_true is empty"),
    ((Y, P, G), {"interval": np.ones((100, 3))}, ValueError, re.escape("interval must have shape (n, 2)")),
    ((Y, P, G), {"interval": np.column_stack([P + 0.1, P])}, ValueError,
     "interval low must not exceed high"),
    ((Y, P, G), {"sample_weight": -np.ones(100)}, ValueError, "sample_weight must hold finite numbers >= 0"),
    ((Y, P, G), {"train_groups": pd.DataFrame({"race": ["a"]})}, ValueError,
     re.escape("train_groups must have the same columns as groups (['sex'])")),
])
def test_data_errors(args, kwargs, err_type, err_msg):
    with pytest.raises(err_type, match=err_msg):
        subgroups.audit_subgroups(*args, n_boot=0, **kwargs)
