# Two commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app surveyapp
HOST   ?= 127.0.0.1
PORT   ?= 5000
PYTEST_ARGS ?=

.PHONY: demo test install install-dev system-deps node-deps serve serve-prod translations bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Re-install only when the package metadata changed.
$(VENV)/.installed: $(PY) setup.cfg pyproject.toml
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(PY) setup.cfg pyproject.toml
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# What the browser, QR and document tests need from Debian: Chromium (never a browser download
# by a test tool), the zbar QR decoder, fonts with Vietnamese glyphs, LibreOffice headless
# (filed reports as PDF) and poppler (PDF pages to images).
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v zbarimg >/dev/null 2>&1 || missing="$$missing zbar-tools"; \
	[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing="$$missing fonts-dejavu-core"; \
	command -v wrk >/dev/null 2>&1 || missing="$$missing wrk"; \
	command -v soffice >/dev/null 2>&1 || missing="$$missing libreoffice-writer-nogui"; \
	command -v pdftoppm >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# axe-core (accessibility checks in the browser tests) from the npm registry, pinned by package-lock.json.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

node-deps: node_modules/.installed

# QR codes and printed links point at this server unless PUBLIC_BASE_URL says otherwise. E-mails
# go to instance/mail/ (shown in the workspace) unless SURVEYAPP_MAIL_BACKEND says otherwise.
demo: export PUBLIC_BASE_URL ?= http://$(HOST):$(PORT)
demo: export SURVEYAPP_MAIL_BACKEND ?= folder
demo: install
	$(FLASK) init-db
	$(FLASK) seed-demo --if-empty
	@echo ""
	@echo "  surveyapp is running at http://$(HOST):$(PORT)/"
	@echo "  Officials sign in at    http://$(HOST):$(PORT)/admin/   as  admin / demo12345"
	@echo "  A citizen survey:       $$($(FLASK) service-points --format url 2>/dev/null | head -n 1)"
	@echo "  Alerts and e-mails:     http://$(HOST):$(PORT)/admin/alerts  and  /admin/deliveries (files in instance/mail/)"
	@echo "  Scheduled reports:      http://$(HOST):$(PORT)/admin/report-subscriptions  (last month's báo cáo lands in instance/mail/ at the worker's first run)"
	@echo ""
	@# The worker runs beside the web server and stops with it.
	$(FLASK) worker & worker=$$!; trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(FLASK) run --host $(HOST) --port $(PORT)

test: install-dev system-deps node-deps
	$(PY) -m pytest $(PYTEST_ARGS)

# Production-style server: gunicorn with surveyapp/gunicorn_conf.py (2 workers per core plus
# one, app preloaded so that a replaced worker starts in milliseconds; WORKERS and BIND
# override), see docs/DEPLOY.md.
serve-prod: install
	$(FLASK) init-db
	$(VENV)/bin/gunicorn -c python:surveyapp.gunicorn_conf --access-logfile - 'surveyapp:create_app()'

translations: install
	$(PY) -m surveyapp.i18n

clean:
	rm -rf $(VENV) node_modules build dist *.egg-info
