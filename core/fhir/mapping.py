"""Map a FHIR R4 chart (Patient, Observations, MedicationStatements) to a cohort's patient record.

The mapping is declared in the cohort spec (``"fhir": {feature: rule}``) so a user's own cohort can add
its own. Rules (``"from"``):

* ``birthDate`` — age at the request date, ``"as": "years"`` or ``"decades"`` (the IWPC coding: 6 = 60–69);
* ``gender`` — ``Patient.gender`` (``male``/``female``; anything else stays unknown);
* ``us-core-race`` — the US Core race extension's ``ombCategory`` (``map``: OMB code → category,
  ``default`` for any other code);
* ``observation`` — the latest final Observation with LOINC ``loinc``, in ``unit`` (``convert``: factor per
  other UCUM unit);
* ``genotype`` — a Genomics Reporting observation (LOINC 84413-4) whose component 48018-6 names the gene
  ``hgnc``; the value is ``valueCodeableConcept.text`` as the spec writes the genotype;
* ``medication`` — an active MedicationStatement with one of the RxNorm codes ``rxnorm``. When a
  medication list came with the chart, a drug with no active statement is taken as not taken (the list is
  the record, and the report says so); with no medication list those inputs stay unknown.

Nothing is invented: a value that cannot be mapped stays unknown and is listed in ``notes``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Mapping

from .._errors import EquipoiseError, SpecError

LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
US_CORE_RACE = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race"
GENOTYPE_PANEL, GENE_STUDIED = "84413-4", "48018-6"
RULES = ("birthDate", "gender", "us-core-race", "observation", "genotype", "medication")
MAX_RESOURCES = 5000


class FhirMappingError(EquipoiseError):
    """A FHIR resource that cannot be read (the message names the resource and what is wrong)."""


@dataclass(frozen=True)
class FhirChart:
    """The parsed chart: the Patient, observations, medication statements, and whether a list came."""

    patient: Any
    observations: tuple = ()
    medications: tuple = ()
    medication_list: bool = False


def parse_mapping(raw: Any, feature_names: list[str]) -> dict:
    """The spec's ``fhir`` object, checked; raises SpecError naming the feature and what is wrong."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise SpecError("The cohort spec's 'fhir' must be an object mapping features to rules.")
    for name, rule in raw.items():
        if name not in feature_names:
            raise SpecError(f"The 'fhir' mapping names unknown feature {name!r}.")
        if not isinstance(rule, dict) or rule.get("from") not in RULES:
            raise SpecError(f"The 'fhir' rule of {name!r} needs 'from', one of {list(RULES)}. Got {rule!r} instead.")
        need = {"observation": "loinc", "genotype": "hgnc", "medication": "rxnorm"}.get(rule["from"])
        if need and not rule.get(need):
            raise SpecError(f"The 'fhir' rule of {name!r} (from {rule['from']!r}) needs {need!r}.")
    return dict(raw)


# --- reading resources ------------------------------------------------------------------------------------
def _model(resource_type: str):
    from fhir.resources.R4B import get_fhir_model_class

    return get_fhir_model_class(resource_type)


def _parse(resource: Any, expected: str, where: str):
    if not isinstance(resource, dict):
        raise FhirMappingError(f"{where} must be a FHIR {expected} resource (a JSON object). Got "
                               f"{type(resource).__name__} instead.")
    if resource.get("resourceType") != expected:
        raise FhirMappingError(f"{where} must have resourceType {expected!r}. Got {resource.get('resourceType')!r}.")
    try:
        return _model(expected).model_validate(resource)
    except Exception as exc:  # pydantic's ValidationError: name the resource, keep the first problem
        first = str(exc).splitlines()
        problem = "; ".join(line.strip() for line in first[1:3]) or str(exc)
        raise FhirMappingError(f"{where} is not a valid FHIR R4 {expected}: {problem}") from None


def _entries(bundle: Any, where: str) -> list:
    if bundle is None:
        return []
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise FhirMappingError(f"{where} must be a FHIR Bundle (searchset).")
    entries = bundle.get("entry") or []
    if not isinstance(entries, list) or len(entries) > MAX_RESOURCES:
        raise FhirMappingError(f"{where}.entry must be a list of at most {MAX_RESOURCES} entries.")
    return [e.get("resource") for e in entries if isinstance(e, dict)]


def chart_from_prefetch(prefetch: Mapping) -> FhirChart:
    """A CDS Hooks prefetch (``patient``, ``observations``, ``medications`` searchset Bundles)."""
    if not isinstance(prefetch, Mapping) or "patient" not in prefetch:
        raise FhirMappingError("The request's prefetch must contain 'patient' (the Patient resource).")
    patient = _parse(prefetch["patient"], "Patient", "prefetch.patient")
    obs = tuple(_parse(r, "Observation", f"prefetch.observations entry {i}")
                for i, r in enumerate(_entries(prefetch.get("observations"), "prefetch.observations")))
    meds_raw = prefetch.get("medications")
    meds = tuple(_parse(r, "MedicationStatement", f"prefetch.medications entry {i}")
                 for i, r in enumerate(_entries(meds_raw, "prefetch.medications")))
    return FhirChart(patient, obs, meds, medication_list=meds_raw is not None)


def chart_from_bundle(bundle: Mapping) -> FhirChart:
    """One FHIR Bundle holding the Patient, Observations and (optionally) MedicationStatements."""
    if isinstance(bundle, Mapping) and "patient" in bundle and bundle.get("resourceType") != "Bundle":
        return chart_from_prefetch(bundle)
    resources = _entries(bundle, "the FHIR Bundle")
    patients = [r for r in resources if isinstance(r, dict) and r.get("resourceType") == "Patient"]
    if len(patients) != 1:
        raise FhirMappingError(f"The FHIR Bundle must hold exactly one Patient. It holds {len(patients)}.")
    kinds = {r.get("resourceType") for r in resources if isinstance(r, dict)}
    obs = tuple(_parse(r, "Observation", f"Observation {i}") for i, r in enumerate(resources)
                if isinstance(r, dict) and r.get("resourceType") == "Observation")
    meds = tuple(_parse(r, "MedicationStatement", f"MedicationStatement {i}") for i, r in enumerate(resources)
                 if isinstance(r, dict) and r.get("resourceType") == "MedicationStatement")
    return FhirChart(_parse(patients[0], "Patient", "the Patient"), obs, meds,
                     medication_list="MedicationStatement" in kinds)


# --- mapping ------------------------------------------------------------------------------------------------
def _codes(concept) -> set[tuple[str | None, str]]:
    return {(c.system, c.code) for c in (getattr(concept, "coding", None) or []) if c.code}


def _age(patient, on: dt.date) -> float | None:
    born = patient.birthDate
    if born is None:
        return None
    born = born if isinstance(born, dt.date) else dt.date.fromisoformat(str(born)[:10])
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _race(patient, rule: dict):
    for ext in patient.extension or []:
        if ext.url != US_CORE_RACE:
            continue
        for sub in ext.extension or []:
            if sub.url == "ombCategory" and sub.valueCoding is not None:
                return rule.get("map", {}).get(sub.valueCoding.code, rule.get("default"))
    return None


def _when(o) -> str:
    return str(o.effectiveDateTime or o.issued or "")


def _observation(chart: FhirChart, rule: dict):
    found = [o for o in chart.observations if (LOINC, rule["loinc"]) in _codes(o.code)
             and o.status in ("final", "amended", "corrected") and o.valueQuantity is not None]
    if not found:
        return None, None
    o = max(found, key=_when)
    q = o.valueQuantity
    unit = q.code or q.unit
    if unit in (None, rule.get("unit")):
        return float(q.value), None
    factor = (rule.get("convert") or {}).get(unit)
    if factor is None:
        return None, f"unit {unit!r} cannot be converted to {rule.get('unit')}"
    return float(q.value) * float(factor), None


def _genotype(chart: FhirChart, rule: dict):
    for o in sorted(chart.observations, key=_when, reverse=True):
        if (LOINC, GENOTYPE_PANEL) not in _codes(o.code) or o.status not in ("final", "amended", "corrected"):
            continue
        for comp in o.component or []:
            if (LOINC, GENE_STUDIED) in _codes(comp.code) and comp.valueCodeableConcept is not None and \
                    any(c.code == rule["hgnc"] for c in comp.valueCodeableConcept.coding or []):
                return o.valueCodeableConcept.text if o.valueCodeableConcept is not None else None
    return None


def _medication(chart: FhirChart, rule: dict):
    codes = {str(c) for c in rule["rxnorm"]}
    for m in chart.medications:
        concept = m.medicationCodeableConcept
        if m.status == "active" and concept is not None and any(s == RXNORM and c in codes
                                                                 for s, c in _codes(concept)):
            return 1
    return 0 if chart.medication_list else None


@dataclass(frozen=True)
class MappedRecord:
    """The record mapped from a chart, and a note for every input that stays unknown or was inferred."""

    record: dict
    notes: tuple[str, ...] = field(default_factory=tuple)


def record_from_chart(spec, chart: FhirChart, *, on: dt.date | None = None) -> MappedRecord:
    """The patient record for ``spec`` from ``chart`` (unmapped inputs stay unknown: None, listed in notes)."""
    on = on or dt.date.today()
    record, notes = {}, []
    for f in spec.features:
        rule = spec.fhir.get(f.name)
        value, why = None, None
        if rule is None:
            why = "not part of the FHIR mapping"
        elif rule["from"] == "birthDate":
            age = _age(chart.patient, on)
            value = None if age is None else (age // 10 if rule.get("as") == "decades" else age)
        elif rule["from"] == "gender":
            value = chart.patient.gender if chart.patient.gender in (f.categories or ()) else None
        elif rule["from"] == "us-core-race":
            value = _race(chart.patient, rule)
        elif rule["from"] == "observation":
            value, why = _observation(chart, rule)
        elif rule["from"] == "genotype":
            value = _genotype(chart, rule)
        elif rule["from"] == "medication":
            value = _medication(chart, rule)
            if value == 0:
                notes.append(f"{f.label}: no active statement in the medication list, taken as not taken.")
        if value is None:
            notes.append(f"{f.label}: unknown ({why or 'not found in the chart'}).")
        record[f.name] = value
    return MappedRecord(record, tuple(notes))
