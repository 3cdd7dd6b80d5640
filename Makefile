PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PORT   ?= 8501

.PHONY: run test bench docs clean

$(PY):
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

$(STAMP): $(PY) pyproject.toml constraints.txt
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]" -c constraints.txt
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/streamlit run app.py --server.headless true --server.port $(PORT) --server.address 127.0.0.1

test: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadfile

bench: $(STAMP)
	mkdir -p benchmarks/results
	$(PY) benchmarks/uncertainty_report.py --out benchmarks/results/uncertainty.json
	$(PY) benchmarks/simulation_report.py --seeds 8 --out benchmarks/results/simulation.json
	$(PY) benchmarks/run.py
	$(PY) benchmarks/bench_audit.py
	$(PY) benchmarks/bench_ui.py
	$(PY) benchmarks/headline_report.py
	$(PY) benchmarks/warnings_report.py
	$(PY) benchmarks/counterfactual_report.py
	$(PY) benchmarks/statistics_report.py
	$(PY) benchmarks/bench_cds.py
	$(PY) benchmarks/bench_speed.py --batch
	$(PY) benchmarks/bench_scale_audit.py
	$(PY) benchmarks/federated_report.py --out benchmarks/results/federated.json
	$(PY) benchmarks/bench_cli_start.py
	$(PY) benchmarks/bench_browser.py

docs: $(STAMP)
	$(PY) -m pip install --quiet -e ".[docs]" -c constraints.txt
	$(PY) docs/gen_cli.py
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

clean:
	rm -rf $(VENV) .equipoise_cache site docs/reference
