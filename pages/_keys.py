"""Every session-state and widget key of the dashboard, defined once (namespaced per page)."""

from pages._router import ROUTED_KEY

# --- persistent session state (survives page changes) -------------------------------------------
ROUTED = ROUTED_KEY                   # app.py's router ran in this session (defined in pages/_router.py)
COHORT = "eq.cohort"                  # the chosen cohort
SOURCE = "eq.source"                  # where the patient comes from: one of SOURCES
SOURCES = ("Held-out test patient", "New patient (form)", "Row of an uploaded CSV")
TEST_ID = "eq.test_id"                # {cohort: chosen held-out patient}
RECORD = "eq.record"                  # {cohort: validated record of the current patient}
LABEL = "eq.label"                    # {cohort: how the patient is named}
FROM = "eq.from"                      # {cohort: the source (SOURCES) the current patient came from}
REFUSED = "eq.refused"                # {cohort: {field: message}} why the last form/CSV patient was refused
WHATIF = "eq.whatif"                  # what-if page: {cohort: {feature: value}}
UNLOCKED = "eq.unlocked"              # what-if page: immutable features unlocked by the user
FORM_RAW = "eq.form_raw"              # {cohort: what was typed in the form, kept as typed (refused or not)}
LINK = "eq.link"                      # the (cohort, patient) deep link last applied from the URL
LINK_PENDING = "eq.link_pending"      # a cohort whose form holds inputs from an EHR link, not yet used
LINK_ERROR = "eq.link_error"          # why the URL's deep link could not be followed
LOG_SESSION = "eq.log_session"        # the audit log's memory of what this session has recorded
SIGNED_IN = "eq.signed_in"            # the user whose sign-in this session has recorded (once per session)
COUNTERFACTUALS = "wi.counterfactuals"  # what-if page: per-session memo (patient data never in a shared cache)

# --- sidebar widgets ------------------------------------------------------------------------------
W_COHORT = "w.cohort"
W_SOURCE = "w.source"
W_TEST_ID = "w.test_id"
W_CSV_ROW = "w.csv_row"
UPLOAD = "eq.upload"                  # the latest uploaded CSV, parsed once: {sha256, frame | None, error}


def form(cohort: str) -> str:
    return f"form.{cohort}"


def form_field(cohort: str, feature: str) -> str:
    return f"form.{cohort}.{feature}"


# --- patient page -----------------------------------------------------------------------------
P_DOSE = "dose_fig"
P_ARMS = "arm_forest"
P_DIFFERENCE = "diff_fig"
P_ICONS = "icons"
P_WHY_DOSE = "why_dose"
P_WHY_ARM = "why_arm"
P_WHY_DIFFERENCE = "why_diff"
P_WHY_TABS = "why_tabs"               # which explanation tab is open (only the open one is drawn)
P_EXPORT = "patient_export"           # + ".html" / ".pdf": the report's download buttons

# --- what-if page -------------------------------------------------------------------------------
WI_PREDICTION = "wi.pred"
WI_WHY = "wi.why"
WI_TARGET = "wi.target"
WI_ICE_FEATURE = "wi.ice_feature"
WI_ICE = "wi.ice"


def unlock(cohort: str) -> str:
    return f"{UNLOCKED}.{cohort}"


def slider(cohort: str, patient_key: str, feature: str) -> str:
    return f"wi.{cohort}.{patient_key}.{feature}"


# --- subgroups page -------------------------------------------------------------------------------
SG_METRIC = "sg.metric"
SG_ATTRIBUTES = "sg.attributes"
SG_FOREST = "sg.forest"
SG_CALIBRATION_BY = "sg.calibration_by"
SG_CALIBRATION = "sg.calibration"

# --- model card page ------------------------------------------------------------------------------
MC_CALIBRATION = "mc.calibration"
MC_DECISION = "mc.decision"
MC_COVERAGE = "mc.coverage"
MC_SITES = "mc.sites"
MC_RACE_GAP = "mc.race_gap"


# --- audit log page -----------------------------------------------------------------------------
AL_USER = "al.user"
AL_PATIENT = "al.patient"
AL_DATES = "al.dates"
AL_VERIFY = "al.verify"
AL_EXPORT = "al.export"
AL_DOWNLOAD = "al.download"
AL_SEQ = "al.seq"

# --- monitoring page --------------------------------------------------------------------------------
MO_UPLOAD = "mo.upload"
MO_TIME = "mo.time"
MO_LABEL = "mo.label"
MO_SCORE = "mo.score"
MO_WINDOW = "mo.window"
MO_ATTRS = "mo.attributes"
MO_N_BOOT = "mo.n_boot"
MO_RUN = "mo.run"
MO_RESULT = "mo.result"       # {(file sha256, settings): Monitoring.to_dict()} of this session
MO_METRIC = "mo.metric"
MO_GROUP = "mo.group"
MO_CHART = "mo.chart"
MO_DRIFT = "mo.drift"


# --- training pages (trainee, instructor) ---------------------------------------------------------
TR_SESSION = "tr.session"
TR_CONSENT = "tr.consent"
TR_INITIAL = "tr.initial"
TR_CONFIDENCE = "tr.confidence"
TR_COMMIT_INITIAL = "tr.commit_initial"
TR_FINAL = "tr.final"
TR_COMMIT_FINAL = "tr.commit_final"
TI_COHORT = "ti.cohort"
TI_CASES = "ti.cases"
TI_SHARE = "ti.share"
TI_SEED = "ti.seed"
TI_CONDITION = "ti.condition"
TI_EXPLANATIONS = "ti.explanations"
TI_INTERVALS = "ti.intervals"
TI_WARNINGS = "ti.warnings"
TI_CREATE = "ti.create"
TI_SESSION = "ti.session"
TI_EXPORT = "ti.export"
TI_DOWNLOAD = "ti.download"
TI_CHART = "ti.chart"

# --- sign-in (any page) ------------------------------------------------------------------------------
SIGN_OUT = "auth.sign_out"


def sign_in(provider: str | None) -> str:
    return f"auth.sign_in.{provider or 'default'}"


# --- tumor-board pages (board_meetings, board_present, board_decide) -------------------------------
BD_MEETING = "bd.meeting"             # the meeting chosen on any board page (its id)
BD_INDEX = "bd.index"                 # {meeting id: 0-based position of the case on screen}
BD_COMPARE = "bd.compare"             # presenter: show the current model's estimate beside the frozen one
BD_EXPORT = "bd.export"               # decide page: {(meeting, case, format): bytes} prepared for download
BD_W_MEETING = "bd.w.meeting"
BD_W_CASE = "bd.w.case"
BD_ADDED = "bd.added"                 # how many cases this session has added: a new case's fields start empty


def board_case(ns: str, name: str) -> str:
    """A widget key of one case being added (``ns`` names the cohort, source, patient and the add count), so no
    text typed for one patient is ever shown, or recorded, for another."""
    return f"bd.case.{ns}.{name}"


def board(name: str) -> str:
    """A widget key of the board pages (``bd.<name>``)."""
    return f"bd.{name}"


# --- bundle refusal (any page) --------------------------------------------------------------------
def retrain(cohort: str) -> str:
    return f"bundle.retrain.{cohort}"


if __name__ == "__main__":  # run as a page by Streamlit's legacy pages-folder mode: hand over to the router
    from pages._router import take_over

    take_over()
