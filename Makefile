# Reference deployment of "Introduction to architecting systems for scale".
# `make` alone lists the targets. CI calls these same targets (.ci/run).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# OFFLINE=1 swaps every third-party image for the registry-free ones that
# `make offline-images` builds (offline/images.env); nothing else changes.
OFFLINE ?=
COMPOSE := docker compose --env-file .env $(if $(OFFLINE),--env-file offline/images.env)
# Every image, the optional profiles' included: built by `make build`, never by a test.
ALL_PROFILES := --profile loadtest --profile bench --profile analytics
VENV := .venv
# `make seed USERS=... STORIES=...`
USERS ?= 10000
STORIES ?= 100000
DAYS ?= 30

.PHONY: help env preflight build up down restart ps logs seed purge operator ci checks test test-unit test-system \
        fuzz openapi loadtest loadtest-headless bench bench-short profile kill stop start pause unpause rolling-restart drain enable \
        members kill-primary switchover pause-replay resume-replay reinit dev analytics mapreduce \
        offline-images lint clean vendor

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

env: .env ## Create .env from .env.example with fresh random secrets (or add what a newer one has)
.env: .env.example
	@python3 scripts/write_env.py .env.example .env

preflight: .env ## Check Docker, Compose and the published ports
	@command -v docker >/dev/null || { echo "Docker is not installed. Install Docker Engine and the Compose v2 plugin: https://docs.docker.com/engine/install/" >&2; exit 1; }
	@docker info >/dev/null 2>&1 || { echo "Docker is installed but its daemon does not answer: start it, and check that this user may use it." >&2; exit 1; }
	@docker compose version >/dev/null 2>&1 || { echo "The Docker Compose v2 plugin is missing ('docker compose version' fails): https://docs.docker.com/compose/install/linux/" >&2; exit 1; }
	@if [ -z "$$($(COMPOSE) ps -q 2>/dev/null)" ]; then \
	  for port in $$($(COMPOSE) config --format json | python3 -c 'import json, sys; print(*sorted({p["published"] for s in json.load(sys.stdin)["services"].values() for p in s.get("ports", [])}))'); do \
	    if (exec 3<>/dev/tcp/127.0.0.1/$$port) 2>/dev/null; then \
	      echo "Port $$port is already in use on this machine. Stop what uses it, or choose another port in .env (see .env.example)." >&2; exit 1; \
	    fi; \
	  done; \
	fi

build: preflight ## Build every image (the load generator's too)
	$(COMPOSE) $(ALL_PROFILES) build

up: build ## Build, then start the whole stack with demo data and wait until it is healthy
	@$(COMPOSE) up --no-build --detach --wait --wait-timeout 600 || { \
	  echo "The stack did not start: see the messages above and 'make ps' / 'make logs'." >&2; \
	  echo "No access to a container registry? Build the images locally: make offline-images && make up OFFLINE=1" >&2; \
	  exit 1; }
	@echo "Site: http://localhost:$${EDGE_PORT:-8080}  Dashboard: http://localhost:$${EDGE_PORT:-8080}/dashboard  CDN: http://static.localhost:$${CDN_PORT:-8081}/static/"
	@echo "RabbitMQ: http://localhost:$${RABBITMQ_UI_PORT:-15672}  Prometheus: http://localhost:$${PROMETHEUS_PORT:-9090}"
	@echo "HAProxy stats: edge http://localhost:$${STATS_PORT:-8404}  platform pool http://localhost:$${PLATFORM_STATS_PORT:-8405}  database pools http://localhost:$${DATABASE_STATS_PORT:-8406}"

down: .env ## Stop the stack (data volumes are kept)
	$(COMPOSE) $(ALL_PROFILES) down --remove-orphans

restart: down up ## Stop, then start again

ps: .env ## Show each service and its health
	$(COMPOSE) ps --all

FOLLOW ?= 1
LOGS_FLAGS ?= --tail 100 $(if $(filter 1,$(FOLLOW)),--follow)
logs: .env ## Follow the logs of every service (or SERVICE=name; FOLLOW=0 prints and returns)
	$(COMPOSE) logs $(LOGS_FLAGS) $(SERVICE)

seed: .env ## Reload the demo world at another size: make seed USERS=500 STORIES=5000
	$(COMPOSE) run --rm --no-deps migrate python manage.py seed --reset --users $(USERS) --stories $(STORIES)

analytics: up ## Start Spark (a master, a worker) and the map-reduce driver: the analytics profile
	@$(COMPOSE) --profile analytics up --no-build --detach --wait --wait-timeout 300 spark-master spark-worker analytics-consumer
	@echo "Spark master UI: http://localhost:$${SPARK_UI_PORT:-8090}  Run a job now: make mapreduce JOB=people-you-may-know"

JOB ?= people-you-may-know
mapreduce: .env ## Run a map-reduce job now, through cron's queue: make mapreduce JOB=click-history
	$(COMPOSE) exec -T cron1 publish-job $(JOB) --now
	@echo "Its run shows on http://localhost:$${EDGE_PORT:-8080}/status (and on the Spark UI while it runs)."

purge: .env ## Delete stories older than DAYS days, cache kept consistent: make purge DAYS=30
	$(COMPOSE) run --rm --no-deps migrate python manage.py purge_stories --older-than-days $(DAYS)

operator: .env ## Let a member see the detailed status: make operator USERNAME=ada (OFF=1 takes it back)
	$(if $(USERNAME),,$(error Name the member: make operator USERNAME=ada))
	$(COMPOSE) run --rm --no-deps migrate python manage.py set_operator $(USERNAME) $(if $(OFF),--off)

ci: lint up analytics checks test-unit test-system bench-short ## What CI runs: lint, checks, every test, then a short benchmark

test: up test-unit test-system ## Start the stack, then run every test

# Django's own release gates, in each tier's image. makemigrations --check: every
# model change has its migration. check --deploy at WARNING: a deployment warning
# fails, except those the settings silence with their reason (plain HTTP, README).
# mypy: the platform's type hints hold (platform/mypy.ini).
checks: .env ## Django's checks for both projects (migrations, deployment settings), then mypy
	@for service in platform1 web1; do \
	  echo "== Django checks: $$service"; \
	  $(COMPOSE) run --rm --no-deps $$service sh -c \
	    'python manage.py makemigrations --check --dry-run && python manage.py check --deploy --fail-level WARNING'; \
	done
	@echo "== type checks: platform1"
	$(COMPOSE) run --rm --no-deps platform1 mypy .

# The platform's tests create a database of their own (pytest-django): they connect as
# the database's owner, from .env, where the platform's own role may not create one.
# $(call from-env,NAME): NAME's value in .env, as the shell reads it when the recipe runs.
from-env = $$(sed -n 's/^$(1)=//p' .env)
as-owner = -e POSTGRES_USER="$(call from-env,POSTGRES_USER)" -e POSTGRES_PASSWORD="$(call from-env,POSTGRES_PASSWORD)"

# The web suite signs members up on the live platform, named webtest_*: their
# accounts are closed after it, whether it passed or not.
test-unit: .env ## Unit tests of each service, inside its image, against the real data tier
	@echo "== unit tests: platform1"
	$(COMPOSE) run --rm --no-deps $(as-owner) platform1 pytest -q
	@echo "== unit tests: the Spark jobs, in the analytics image (Spark in local mode)"
	$(COMPOSE) --profile analytics run --rm --no-deps $(as-owner) analytics-consumer pytest -q tests/mapreduce/spark
	@echo "== unit tests: web1"
	@status=0; $(COMPOSE) run --rm --no-deps -e DEMO_PASSWORD="$(call from-env,DEMO_PASSWORD)" web1 pytest -q || status=$$?; \
	  $(COMPOSE) run --rm --no-deps -T platform1 python manage.py close_accounts --username-prefix webtest_; \
	  exit $$status

fuzz: .env ## Fuzz the platform API with new random input (the suite repeats the same input)
	$(COMPOSE) run --rm --no-deps -e HYPOTHESIS_PROFILE=explore $(as-owner) platform1 pytest -q tests/news/api/test_fuzz.py

OPENAPI := platform/openapi-v1.json
openapi: .env ## Write the platform API's schema as published (after a deliberate API change)
	$(COMPOSE) run --rm --no-deps -T platform1 python manage.py openapi > $(OPENAPI)
	git diff --stat -- $(OPENAPI)

test-system: $(VENV)/bin/pytest ## System tests from this machine, through the published ports
	OFFLINE="$(OFFLINE)" $(VENV)/bin/pytest tests

$(VENV)/bin/pytest: tests/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -r tests/requirements.txt
	@touch $@

loadtest: up ## Start Locust (UI on http://localhost:8089) against the edge load balancer
	$(COMPOSE) --profile loadtest up --no-build --detach --wait locust
	@echo "Locust: http://localhost:$${LOCUST_PORT:-8089}"

# make loadtest-headless USERS=20 DURATION=60s MAX_P95=2000: users (20 unless given
# here: `make seed` gives USERS another meaning), how long, and the 95th percentile
# (ms) above which the run fails, as it does on any failed request.
LOAD_USERS = $(if $(filter command line,$(origin USERS)),$(USERS),20)
DURATION ?= 60s
MAX_P95 ?= 2000
loadtest-headless: up ## A bounded Locust run, reports in reports/: make loadtest-headless USERS=20 DURATION=60s
	mkdir -p reports
	@status=0; $(COMPOSE) --profile loadtest run --rm --no-deps -T --user "$$(id -u):$$(id -g)" \
	  --volume "$(CURDIR)/reports:/reports" locust --headless -u $(LOAD_USERS) -r $(LOAD_USERS) -t $(DURATION) \
	  --host http://edge-lb:8080 --csv /reports/locust --html /reports/locust.html --max-p95 $(MAX_P95) \
	  --only-summary || status=$$?; \
	  $(COMPOSE) run --rm --no-deps -T platform1 python manage.py close_accounts --username-prefix loadtest_; \
	  echo "Reports: reports/locust.html, reports/locust_stats.csv"; exit $$status

# The benchmark (bench/run.py): wrk inside the compose network, CPU from each container's
# cgroup, every comparison side by side in one run. make bench-short: CI's version.
bench: $(VENV)/bin/pytest ## Benchmark the running stack: bench/report.md and its charts (about 10 minutes)
	OFFLINE="$(OFFLINE)" $(VENV)/bin/python -m bench.run

bench-short: $(VENV)/bin/pytest ## The benchmark in short runs (reports/bench/; CI runs it, figures not asserted)
	OFFLINE="$(OFFLINE)" $(VENV)/bin/python -m bench.run --seconds 3 --out reports/bench

# py-spy (in the load generators' image) joins the container's process namespace with
# the one capability it needs, samples every gunicorn worker without pausing them, and
# writes a flame graph (FORMAT=speedscope or raw for the other formats py-spy knows).
# --gil keeps only samples of a thread holding the GIL: the Python that costs CPU. Without
# it, gunicorn's threads waiting to take the GIL back after a socket call show up as time
# spent in that call (PROFILE_FLAGS= to see every thread, waits included).
PROFILE_SECONDS ?= 20
PROFILE_FLAGS ?= --gil
FORMAT ?= flamegraph
profile-ext = $(if $(filter flamegraph,$(FORMAT)),svg,$(if $(filter speedscope,$(FORMAT)),json,txt))
profile: .env ## Profile a Python container under whatever load it has: make profile NODE=web1 (reports/)
	$(need-node)
	mkdir -p reports
	docker run --rm --pid "container:$$($(COMPOSE) ps -q $(NODE))" --cap-add SYS_PTRACE --user root \
	  --volume "$(CURDIR)/reports:/reports" --entrypoint py-spy \
	  "$$($(COMPOSE) --profile bench config --format json | python3 -c 'import json, sys; print(json.load(sys.stdin)["services"]["bench"]["image"])')" \
	  record --pid 1 --subprocesses --nonblocking --rate 250 --duration $(PROFILE_SECONDS) $(PROFILE_FLAGS) \
	  --format $(FORMAT) --output /reports/profile-$(NODE).$(profile-ext)
	@echo "Profile: reports/profile-$(NODE).$(profile-ext)"

# Failure drills (README: Break it and watch). NODE is a service name: web2, platform1,
# postgres2, redis, rabbitmq2, consumer, cron1... Without one, these would act on
# every container.
need-node = $(if $(NODE),,$(error Name the container: make $@ NODE=web2 (services: make ps)))

kill: .env ## Kill a container, as a crash would: make kill NODE=web2
	$(need-node)
	$(COMPOSE) kill $(NODE)

stop: .env ## Stop a container gracefully: make stop NODE=web2
	$(need-node)
	$(COMPOSE) stop $(NODE)

start: .env ## Start a stopped or killed container again: make start NODE=web2
	$(need-node)
	$(COMPOSE) up --detach --no-deps --no-recreate --no-build $(NODE)

pause: .env ## Freeze a container: up, but answering nothing: make pause NODE=platform1
	$(need-node)
	$(COMPOSE) pause $(NODE)

unpause: .env ## Let a paused container run again: make unpause NODE=platform1
	$(need-node)
	$(COMPOSE) unpause $(NODE)

rolling-restart: .env ## Restart the web tier one node at a time, each back in rotation before the next
	@for node in web1 web2 web3; do \
	  echo "== restarting $$node"; \
	  $(COMPOSE) restart $$node; \
	  $(COMPOSE) up --detach --no-deps --no-recreate --no-build --wait $$node; \
	  for second in $$(seq 60); do \
	    status=$$($(call server-status,edge-lb,web,$$node)); \
	    [ "$$status" = UP ] && break; \
	    [ "$$second" = 60 ] && { echo "$$node is not back in rotation after 60 s ($$status)" >&2; exit 1; }; \
	    sleep 1; \
	  done; \
	  echo "$$node is healthy and back in rotation"; \
	done

# The Postgres cluster (postgres/): three members under Patroni, one of them the primary,
# which one changing when it fails. patronictl, Patroni's own tool, runs in any member
# that runs; it shows the members and changes the cluster through their REST API.
patronictl = $(COMPOSE) exec -T "$$($(COMPOSE) ps --status running --services | grep -m1 -x 'postgres[0-9]')" \
	patronictl --config-file /etc/patroni/patroni.yml
# The primary's name, or the replicas': $(call members,primary) / $(call members,replicas)
members = $(patronictl) list --format json | python3 -c 'import json, sys; \
	print(*[m["Member"] for m in json.load(sys.stdin) if (m["Role"] == "Leader") == ("$(1)" == "primary")])'
member-psql = $(COMPOSE) exec -T $(1) sh -c 'psql -qtA -U "$$POSTGRES_USER" -d "$$POSTGRES_DB" -c "$$0"' $(2)

members: .env ## Show the Postgres members: the primary, each replica's state, lag and timeline
	@$(patronictl) list

kill-primary: .env ## Kill the Postgres primary, as a crash would: a replica takes over in about 20 s
	@primary="$$($(call members,primary))"; [ -n "$$primary" ] || { echo "No primary now: make members" >&2; exit 1; }; \
	  $(COMPOSE) kill "$$primary"; \
	  echo "Killed $$primary. Watch a replica take over: make members. Back, as a replica: make start NODE=$$primary"

switchover: .env ## Hand the primary's role to a replica, losing no write (a planned failover)
	$(patronictl) switchover --force $(if $(NODE),--candidate $(NODE))

pause-replay: .env ## Freeze what the replicas show (reads go stale; your own writes still show)
	@for replica in $$($(call members,replicas)); do $(call member-psql,$$replica,'SELECT pg_wal_replay_pause()'); done
	@echo "Replay paused: /status shows the replicas falling behind. Back: make resume-replay"

resume-replay: .env ## Let the replicas catch up again
	@for replica in $$($(call members,replicas)); do $(call member-psql,$$replica,'SELECT pg_wal_replay_resume()'); done

reinit: .env ## Copy the primary again into a replica (after its WAL was dropped): make reinit NODE=postgres2
	$(need-node)
	$(patronictl) reinit --force --wait scale $(NODE)

# HAProxy's runtime API (loopback inside the container): the balancer and backend of a server.
lb-of = $(if $(filter platform%,$(SERVER)),platform-lb platform_pool,$(if $(filter postgres%,$(SERVER)),db-lb read_pool,edge-lb web))
ask-haproxy = $(COMPOSE) exec -T $(1) bash -c 'exec 3<>/dev/tcp/127.0.0.1/9999; echo "$(2)" >&3; cat <&3'
# A command HAProxy answers with nothing when it did as told, and with its reason when not.
runtime-api = answer="$$($(call ask-haproxy,$(word 1,$(lb-of)),$(1)))"; \
	if [ -n "$${answer//[[:space:]]/}" ]; then echo "$(word 1,$(lb-of)): $$answer" >&2; exit 1; fi
# A server's status as its balancer sees it (UP, DOWN, MAINT...): $(call server-status,edge-lb,web,web2)
server-status = $(call ask-haproxy,$(1),show stat) | awk -F, -v backend=$(2) -v server=$(3) '$$1 == backend && $$2 == server {print $$18}'

drain: .env ## Drain a server: no new requests, in-flight ones finish: make drain SERVER=web2
	$(if $(SERVER),,$(error Name the server: make drain SERVER=web2 (or platform1, postgres2)))
	$(call runtime-api,set server $(word 2,$(lb-of))/$(SERVER) state drain)
	@echo "$(SERVER) drained; the stats page shows it in blue. Back: make enable SERVER=$(SERVER)"

enable: .env ## Put a drained server back in rotation: make enable SERVER=web2
	$(if $(SERVER),,$(error Name the server: make enable SERVER=web2 (or platform1, postgres2)))
	$(call runtime-api,set server $(word 2,$(lb-of))/$(SERVER) state ready)
	@echo "$(SERVER) ready again"

# Browser libraries, from the npm registry at the versions webapp/package-lock.json pins
# (npm checks each package's integrity), copied into the static files: the CDN host
# serves them, no page loads a script from a third-party host. Committed; run after
# changing a version in webapp/package.json.
VENDOR := webapp/web/static/web/vendor
vendor: ## Refresh the vendored browser libraries (uPlot) from the npm registry
	cd webapp && npm ci --ignore-scripts --no-audit --no-fund
	mkdir -p $(VENDOR)/uplot
	cp webapp/node_modules/uplot/dist/uPlot.iife.min.js webapp/node_modules/uplot/dist/uPlot.min.css \
	  webapp/node_modules/uplot/LICENSE $(VENDOR)/uplot/
	rm -rf webapp/node_modules
	git status --short -- $(VENDOR)

offline-images: ## Build every third-party image from Debian packages, with no registry
	bash offline/build.sh

lint: $(VENV)/bin/pytest ## Lint and format-check the Python code (ruff)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

dev: build ## Start the stack with the web and platform code mounted: edits reload on save
	$(COMPOSE) -f docker-compose.yml -f compose.dev.yml up --no-build --detach --wait --wait-timeout 600
	@echo "Edits under webapp/web and platform/ reload their gunicorn workers. Back to the built images: make up"

clean: .env ## Remove the stack and its data volumes (images stay, as a build cache)
	$(COMPOSE) $(ALL_PROFILES) down --volumes --remove-orphans
