"""An example patient for a cohort, with every field's unit, limits and meaning documented."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .spec import CohortSpec


def patient_template(spec: CohortSpec, frame: pd.DataFrame | None = None) -> dict:
    """``{"patient": {...}, "fields": {...}}``; ``equipoise predict --patient`` accepts the whole object.

    With a cohort's ``frame``, the example is its most typical complete patient (closest to the
    medians and modes), so the values are consistent with each other. Without one, each value is the
    middle of its plausible range, the first category, or 0 (no).
    """
    typical = _most_typical(spec, frame) if frame is not None else {}
    patient, fields = {}, {}
    for f in spec.features:
        doc = {"label": f.label, "type": f.type, "required": f.required,
               "changeable": "actionable (can change)" if f.actionable else "immutable for this decision"}
        if f.is_numeric:
            mid = (f.plausible[0] + f.plausible[1]) / 2
            patient[f.name] = int(round(mid)) if f.integer else round(mid, 1)
            doc.update(unit=f.unit, limits=list(f.limits), plausible=list(f.plausible),
                       rule=f"refused outside {f.limits}; warned outside {f.plausible}")
            if f.integer:
                doc["integer"] = True
        elif f.type == "binary":
            patient[f.name] = 0
            doc["allowed"] = [0, 1]
        else:
            patient[f.name] = f.categories[0]
            doc["allowed"] = list(f.categories)
        if not f.required:
            doc["missing"] = "may be null: the report then shows the range over its plausible values"
        fields[f.name] = doc
    for name, value in typical.items():
        patient[name] = value
    return {"cohort": spec.name, "patient": patient, "fields": fields}


def _most_typical(spec: CohortSpec, frame: pd.DataFrame) -> dict:
    cols = spec.feature_names
    complete = frame[cols].dropna()
    if complete.empty:
        return {}
    distance = np.zeros(len(complete))
    for f in spec.features:
        col = complete[f.name]
        if f.is_numeric:
            spread = float(col.std()) or 1.0
            distance += np.abs(col.astype(float).to_numpy() - float(col.median())) / spread
        else:
            distance += (col.astype(str) != str(col.mode().iloc[0])).to_numpy()
    row = complete.iloc[int(np.argmin(distance))]
    out = {}
    for f in spec.features:
        v = row[f.name]
        out[f.name] = (int(v) if (f.integer or f.type == "binary") else float(v)) if f.type in ("numeric", "binary") else str(v)
    return out
