# Lianjie — the two commands: `make run` (product on local defaults) and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
# The one command line (cli/): flask command groups on the app of wsgi.py.
FLASK := $(VENV)/bin/flask --app wsgi
RUN_STAMP := $(VENV)/.run-deps
DEV_STAMP := $(VENV)/.dev-deps
# The public address: nginx (the buffering reverse proxy) listens here; gunicorn only on GUNICORN_BIND,
# a private loopback address nginx forwards complete requests to (see README "Deployment").
BIND ?= 127.0.0.1:8000
GUNICORN_BIND ?= 127.0.0.1:8001
# TLS: PEM certificate and key paths; with both set nginx serves https on BIND and sends HSTS.
TLS_CERT ?=
TLS_KEY ?=
PROXY := $(PY) -m deploy.nginx --listen "$(BIND)" --upstream "$(GUNICORN_BIND)" \
  $(if $(TLS_CERT),--tls-cert "$(TLS_CERT)") $(if $(TLS_KEY),--tls-key "$(TLS_KEY)")
GUNICORN_PID := var/run/gunicorn.pid
# The tests' own Neo4j instance, beside the development one.
TEST_ENV := LOCAL_NEO4J_PORT=7688 LOCAL_NEO4J_HOME=$(CURDIR)/var/neo4j/test

.PHONY: help run test test-unit stop serve neo4j schema sample tools install install-dev bench-etl bench-match bench-api bench-soak clean token browser nginx notebook backup restore

help:
	@echo "make run    — 安装依赖、启动 Neo4j、建模式、加载样例数据、经 nginx 在 http://$(BIND) 提供服务"
	@echo "make test   — 安装依赖、启动测试用 Neo4j（端口 7688）、运行全部测试"
	@echo "make test-unit — 只运行单元测试（不需要 Neo4j，一分钟内）"
	@echo "make stop   — 停止 make run / make test 启动的 nginx、gunicorn 与 Neo4j"
	@echo "make backup — 备份本机 Neo4j 与 var/secrets 中的密钥（var/backups/lianjie-时间.tar.gz；BACKUP=文件 另存）"
	@echo "make restore BACKUP=文件 [FORCE=1] — 从备份恢复（目标已有数据时须 FORCE=1；先 make stop）"

$(PY):
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): requirements.txt | $(PY)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@ $(RUN_STAMP)

install: $(RUN_STAMP)
install-dev: $(DEV_STAMP)

# Debian's nginx, the buffering reverse proxy in front of gunicorn (root only; skipped when present).
# Only the binary is used: the project runs its own nginx (deploy/nginx.py, config and files under var/).
nginx:
	@if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nginx; \
	  else echo "需要 nginx（Debian：apt-get install nginx）/ nginx is required (Debian: apt-get install nginx)" >&2; exit 1; fi; \
	fi

# Java 17+ and Maven build the embedded Neo4j; installed from Debian when missing (root only).
tools:
	@if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -q && apt-get install -y -q openjdk-17-jdk-headless maven; \
	  else echo "需要 Java 17+ 与 Maven / Java 17+ and Maven are required" >&2; exit 1; fi; \
	fi

# Debian's Chromium and CJK fonts for the browser tests (root only; skipped when present).
browser:
	@if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	      chromium fonts-noto-cjk fontconfig; \
	  else echo "浏览器测试需要 chromium 与 fonts-noto-cjk / browser tests need chromium and fonts-noto-cjk" >&2; exit 1; fi; \
	fi

neo4j: $(RUN_STAMP) tools
	$(FLASK) neo4j start

schema: neo4j
	$(FLASK) neo4j schema

SAMPLE_DIR := var/sample

# A small synthetic county (凤凰县) in the bureaus' own file formats, loaded so a new user sees a working product.
sample: schema
	$(FLASK) sample --quiet --out $(SAMPLE_DIR)

run: sample nginx
	@$(MAKE) --no-print-directory serve

# gunicorn on the private GUNICORN_BIND (trusting one proxy: PROXY_HOPS=1), nginx in front of it on BIND.
serve: $(RUN_STAMP) nginx
	@mkdir -p var/run var/log
	@if [ -f $(GUNICORN_PID) ] && kill -0 "$$(cat $(GUNICORN_PID))" 2>/dev/null; then \
	  echo "gunicorn 已在运行，复用 / already serving (pid $$(cat $(GUNICORN_PID)))"; \
	else \
	  LIANJIE_BIND=$(GUNICORN_BIND) PROXY_HOPS=1 $(VENV)/bin/gunicorn -c gunicorn.conf.py --daemon wsgi:app; \
	fi
	@$(PROXY) start
	@url=$$($(PROXY) url); for i in $$(seq 1 120); do \
	  code=$$(curl -sk -o /dev/null -w '%{http_code}' $$url/readyz || true); \
	  [ "$$code" = 200 ] && { echo "联结 Lianjie 已就绪 / ready: $$url/"; exit 0; }; sleep 0.5; \
	done; echo "服务未就绪 / not ready, see var/log/gunicorn.log and var/log/nginx-error.log" >&2; exit 1

# An API token (printed once): make token ROLE=bureau COUNTY=433123000000 NAME=凤凰县商务局
token: schema
	$(FLASK) tokens create --role "$(ROLE)" --name "$(or $(NAME),$(ROLE))" \
	  $(if $(COUNTY),--county "$(COUNTY)") $(if $(ENTERPRISE),--enterprise "$(ENTERPRISE)")

# Jupyter on the analysts' data: every county is exported first (pseudonymised Parquet under var/analyst, dated
# today; `flask analyst export`), then Jupyter starts in notebooks/. The notebooks read only those files, never the
# graph; the kernel imports the project from this environment and reads the root .env (services/notebook_support.py).
notebook: schema $(DEV_STAMP)
	$(FLASK) analyst export --all
	$(VENV)/bin/jupyter notebook --no-browser --ip=127.0.0.1 --notebook-dir=notebooks

# One archive with Neo4j's own dump of the local database, the keys in var/secrets and a manifest (mode 0600).
# Community edition dumps a stopped database only: Neo4j is stopped for the dump (the service answers 503
# meanwhile) and started again. `make backup BACKUP=/path/x.tar.gz` writes it elsewhere.
backup: $(RUN_STAMP) tools
	$(FLASK) neo4j backup $(if $(BACKUP),--out "$(BACKUP)")

# Load a backup into the local Neo4j and put its keys back: make restore BACKUP=var/backups/….tar.gz [FORCE=1].
# Refused while gunicorn serves (its workers hold the old keys and the old graph's bookmarks): make stop first,
# make run afterwards. FORCE=1 replaces a graph that holds data.
restore: $(RUN_STAMP) tools
	@test -n "$(BACKUP)" || { echo "用法 / usage: make restore BACKUP=FILE [FORCE=1]" >&2; exit 2; }
	@if [ -f $(GUNICORN_PID) ] && kill -0 "$$(cat $(GUNICORN_PID))" 2>/dev/null; then \
	  echo "服务正在运行，请先 make stop，恢复后再 make run / the service is running: make stop first, make run after" >&2; \
	  exit 1; \
	fi
	$(FLASK) neo4j restore "$(BACKUP)" $(if $(FORCE),--force)

stop:
	@if [ -x $(PY) ]; then $(PY) -m deploy.nginx stop; fi
	@if [ -f $(GUNICORN_PID) ] && kill -0 "$$(cat $(GUNICORN_PID))" 2>/dev/null; then \
	  pid=$$(cat $(GUNICORN_PID)); kill -TERM $$pid; \
	  for i in $$(seq 1 100); do kill -0 $$pid 2>/dev/null || break; sleep 0.2; done; \
	  echo "gunicorn 已停止 / stopped (pid $$pid)"; \
	fi
	@if [ -x $(VENV)/bin/flask ]; then $(FLASK) neo4j stop --all; fi

test: $(DEV_STAMP) tools browser nginx
	$(TEST_ENV) $(FLASK) neo4j build
	$(TEST_ENV) $(PY) -m pytest $(PYTEST_ARGS)

# The unit tests alone: no Neo4j, no browser, under a minute.
test-unit: $(DEV_STAMP)
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

# Province-scale ETL benchmark (1,000,000 households; about half an hour, several GB of disk).
bench-etl: $(DEV_STAMP) tools
	$(PY) bench/etl_load.py $(BENCH_ARGS)

# Province-scale matching benchmark (county tasks on Dask) on the graph bench-api prepares (var/neo4j/apibench).
bench-match: $(DEV_STAMP) tools
	$(PY) bench/match_province.py $(BENCH_ARGS)

# API latency and throughput under gunicorn on its own province graph (prepared once, about 45 minutes).
bench-api: $(DEV_STAMP) tools
	$(PY) bench/api_load.py $(BENCH_ARGS)

# A bounded soak (10 minutes by default) of mixed reads and writes through nginx on its own Neo4j.
bench-soak: $(DEV_STAMP) tools nginx
	$(PY) bench/soak.py $(BENCH_ARGS)

clean: stop
	rm -rf var graph/launcher/target
