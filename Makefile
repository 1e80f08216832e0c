# Every target creates or reuses the project virtualenv itself (.venv, managed by uv from
# uv.lock). uv is bootstrapped into .uv/ from PyPI, so a fresh machine needs only python3.11.
.DEFAULT_GOAL := help
UV_VERSION := 0.13.8
UV := .uv/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := 3.11
# Development targets use the local settings (DEBUG on). wsgi.py, asgi.py and celery.py
# default to production's, so a server started without settings never runs in debug.
DJANGO_SETTINGS_MODULE ?= attendance_app.settings.local

.PHONY: help install messages makemessages run test check lint fmt typecheck migrate makemigrations seed worker beat shell up down logs bench backup restore

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

$(UV):
	python3 -m venv .uv && .uv/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --quiet && touch $@

install: $(VENV)/.synced messages ## Create the virtualenv, install the locked dependencies, compile the translations

messages: $(VENV)/.synced ## Compile locale/*.po into .mo (pure Python, Babel; .mo files are not in git)
	$(PY) manage.py compilemessages_py --verbosity 0

makemessages: install ## Refresh locale/cy/LC_MESSAGES/django.po from the code (needs GNU gettext)
	$(PY) manage.py makemessages --locale cy --no-obsolete --ignore '.venv/*' --ignore '.uv/*' --ignore 'staticfiles/*'

run: install migrate seed ## Migrate, seed the demo trust and serve http://127.0.0.1:8000
	@echo "Staff sign-in asks for a second-factor code: $(PY) manage.py demo_mfa_code EMAIL"
	$(PY) manage.py runserver 127.0.0.1:8000

test: install ## Run the whole test suite (SQLite, or PostgreSQL with DATABASE_URL)
	$(VENV)/bin/pytest

check: lint typecheck test ## Lint, type-check, check migrations, then run the tests
	$(PY) manage.py makemigrations --check --dry-run

lint: install ## ruff check and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: install ## Fix what ruff can fix and format the code
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

typecheck: install ## mypy --strict with the Django and DRF plugins
	$(VENV)/bin/mypy .

migrate: install ## Apply migrations
	$(PY) manage.py migrate --verbosity 0

makemigrations: install ## Write migrations for model changes
	$(PY) manage.py makemigrations

seed: install migrate ## Create (or refresh) the demo trust and print its logins; idempotent
	$(PY) manage.py seed_demo

worker: install ## A Celery worker (needs REDIS_URL)
	DJANGO_SETTINGS_MODULE=$(DJANGO_SETTINGS_MODULE) $(VENV)/bin/celery -A attendance_app worker --loglevel INFO

beat: install ## Celery beat: the nightly schedule (needs REDIS_URL)
	DJANGO_SETTINGS_MODULE=$(DJANGO_SETTINGS_MODULE) $(VENV)/bin/celery -A attendance_app beat --loglevel INFO

shell: install ## A Django shell
	$(PY) manage.py shell

up: ## The full stack with Docker (web, worker, beat, PostgreSQL, Redis, Mailpit)
	docker compose up --build

down: ## Stop the Docker stack
	docker compose down

logs: ## Follow the Docker stack's logs
	docker compose logs -f

backup: install ## Dump the database and media into backups/<UTC time>/ with a manifest (BACKUP_DIR=…)
	$(PY) -m ops.backup

restore: install ## Restore BACKUP=backups/<UTC time> into an empty database, then verify it (FORCE=1)
	@test -n "$(BACKUP)" || { echo "usage: make restore BACKUP=backups/<UTC time> [FORCE=1] [NO_OWNER=1]"; exit 2; }
	$(PY) -m ops.restore "$(BACKUP)" $(if $(FORCE),--force) $(if $(NO_OWNER),--no-owner)
