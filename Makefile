# newsetl: `make run` sets up and runs the pipeline on seeds/, `make test` sets up and tests.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.newsetl-installed
NATIVE := build/native/manifest.json

.PHONY: setup native run test lint bench instructions lock clean server serve train scheduler worker

setup: $(STAMP) $(NATIVE)

# Python packages from the lock file; the report's CSS/JS (Bootstrap, jQuery, ...) from npm,
# pinned by package-lock.json, so Data Docs render without network (expectations/assets.py).
$(STAMP): pyproject.toml requirements.lock package.json package-lock.json
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@command -v npm >/dev/null || { echo "npm is needed for the report's assets: apt-get install -y npm" >&2; exit 1; }
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $(STAMP)

# The transforms compiled to C by mypyc (transforms/native.py), rebuilt when a source changes.
# They run only while they match the source; a failed build leaves the pure-Python source
# running (slower), so it does not stop setup.
# `make native` rebuilds them whatever make thinks (after installing a C compiler, say).
$(NATIVE): $(STAMP) $(wildcard transforms/*.py)
	-NEWSETL_PURE_PYTHON=1 $(BIN)/python -c 'import sys; from transforms.native import build; sys.exit(build())'

native: $(STAMP)
	@rm -f $(NATIVE)
	@$(MAKE) --no-print-directory $(NATIVE)

run: setup
	$(BIN)/newsetl run

# pytest exits 5 when it collected no test: that is a failure here, not a pass.
test: setup
	@$(BIN)/python -m pytest -q -rs; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest ran no tests: failing" >&2; exit 1; fi; exit $$rc

# Scheduled runs need a real Prefect server (the temporary one never runs schedules):
# `make server` starts one on 127.0.0.1:4200 with the project's PREFECT_HOME, `make serve`
# registers the hourly deployment and serves it (Ctrl-C stops serving).
PREFECT_PORT ?= 4200
export PREFECT_HOME ?= $(CURDIR)/.prefect

server: $(STAMP)
	PREFECT_SERVER_ANALYTICS_ENABLED=false DO_NOT_TRACK=1 $(BIN)/prefect server start --host 127.0.0.1 --port $(PREFECT_PORT)

serve: $(STAMP)
	PREFECT_API_URL=http://127.0.0.1:$(PREFECT_PORT)/api $(BIN)/newsetl serve --cron "0 * * * *"

# A Dask cluster for `newsetl run --cluster tcp://HOST:8786` (docs/cluster.md). On each worker
# machine, in a checkout of the same commit on the shared storage's paths:
#   make worker SCHEDULER=tcp://HOST:8786
# sets up the same .venv (compiled transforms, lexicon cache) and starts one single-threaded
# worker process per core with newsetl preloaded. `make scheduler` starts the scheduler.
DASK_PORT ?= 8786
DASK_HOST ?= 127.0.0.1
WORKERS   ?= $(shell nproc 2>/dev/null || echo 1)

scheduler: $(STAMP)
	$(BIN)/dask scheduler --host $(DASK_HOST) --port $(DASK_PORT) --no-dashboard --no-show

worker: setup
	@test -n "$(SCHEDULER)" || { echo "make worker needs SCHEDULER=tcp://HOST:PORT (the address make scheduler printed)" >&2; exit 2; }
	$(BIN)/python -c 'from flows.lexicon_cache import context; context()'
	$(BIN)/dask worker $(SCHEDULER) --nworkers $(WORKERS) --nthreads 1 --preload flows.dask_worker \
	  --no-dashboard $(if $(WORKER_HOST),--host $(WORKER_HOST),)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# Extraction on one core in memory, then the real flow over the BBC corpus copied tenfold
# (about 21,000 articles) with 1 and 2 worker processes: articles/s, stages, peak RSS, start-up;
# then the performance ratios (overhead, growth, nothing to do, serve, soak, memory at 100k);
# then the flow on a local Dask cluster of 1 and 2 workers (docs/scaling.md).
bench: setup
	$(BIN)/python benchmarks/bench_extract.py
	$(BIN)/python benchmarks/bench_flow.py --copies 10 --workers 1 2
	$(BIN)/python benchmarks/bench_ratios.py
	$(BIN)/python benchmarks/bench_cluster.py --workers 1 2

# CPU instructions per article of the extraction (needs valgrind): repeats within 0.5%
instructions: setup
	$(BIN)/python benchmarks/instructions.py

# The learned mention typer and speaker ranker (transforms/typer.json, transforms/ranker.json),
# from the train splits of ../shared/devdata only (never dev), 5-fold cross-validated first.
# Deterministic. Without the shared data the committed weights stay in use.
train: $(STAMP)
	@for f in ../shared/devdata/conll/train/gold.jsonl ../shared/devdata/polnear/train/gold.jsonl \
	  ../shared/tools/score.py; do test -f $$f || { echo "make train needs ../shared/devdata/{conll,polnear}/train \
	(articles/ and gold.jsonl) and ../shared/tools/score.py; $$f is missing. Without them the committed \
	transforms/typer.json and transforms/ranker.json are used." >&2; exit 1; }; done
	$(BIN)/python -m training.train_typer --cv
	$(BIN)/python -m training.train_ranker --cv

lock: $(STAMP)
	@printf '%s\n' '# Full pinned dependency tree of newsetl (runtime + dev), made with `pip freeze` in the tested venv.' \
	  '# Regenerate with `make lock` after changing pyproject.toml.' > requirements.lock.new
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e' >> requirements.lock.new
	@mv requirements.lock.new requirements.lock

clean:
	rm -rf $(VENV) build node_modules .prefect warehouse/*.duckdb warehouse/*.duckdb.wal warehouse/*.gx \
	  warehouse/*.ducklake warehouse/*.ducklake-* warehouse/*.ducklake.* warehouse/*.files
