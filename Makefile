# make run   - the product on its embedded defaults (SQLite, local files, in-process jobs);
#              PORT=8000 serves it on another port, INI=my.ini with another config
# make test  - the whole test suite, on SQLite and on a throwaway PostgreSQL
VENV     ?= .venv
PYTHON   ?= python3
BIN       = $(VENV)/bin
PORT     ?= 6543
INI      ?= development.ini
# On another port than the ini's 6543: a copy of the ini in var/ with that port in every
# address (the portal's own and the feeds it calls on itself), on the same data in var/.
RUN_INI   = $(if $(filter 6543,$(PORT)),$(INI),var/$(basename $(notdir $(INI)))-$(PORT).ini)
PLUGINS   = examples/notes plugins/sso_azure plugins/sso_google plugins/bankid plugins/ocr plugins/rates devtools

.PHONY: run test install catalogs extract system-packages docs bench audit clean

$(BIN)/.installed: setup.cfg $(foreach p,$(PLUGINS),$(p)/setup.cfg)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade --quiet pip 'setuptools<81' wheel
	$(BIN)/pip install --quiet --only-binary lxml,xmlsec -e '.[test,docs,s3,author]' $(foreach p,$(PLUGINS),-e $(p))
	$(BIN)/python -c "import xmlsec, onelogin.saml2.auth"  # lxml and xmlsec agree on libxml2
	touch $@

# installs, then compiles the message catalogs of the core and of every installed plugin
install: $(BIN)/.installed
	$(BIN)/mypages i18n compile --all

catalogs: install

# Refresh the .pot templates and merge new strings into every language's .po
# (`mypages i18n extract|update --plugin NAME` does one plugin).
extract: | install
	$(BIN)/mypages i18n extract --all
	$(BIN)/mypages i18n update --all

run: catalogs $(RUN_INI)
	@scripts/ensure-system-packages xmlsec1 tesseract-ocr
	mkdir -p var
	$(BIN)/mypages -c $(RUN_INI) db upgrade
	$(BIN)/mypages -c $(RUN_INI) demo
	$(BIN)/pserve $(RUN_INI)

var/$(basename $(notdir $(INI)))-%.ini: $(INI)
	mkdir -p var
	sed -e 's/127\.0\.0\.1:6543/127.0.0.1:$*/g' -e 's|%(here)s/var|%(here)s|g' $(INI) > $@

# PostgreSQL server programs, Chromium and Tesseract for the tests (Debian; needs root).
system-packages:
	@scripts/ensure-system-packages

# one pytest-xdist worker per core, each with its own SQLite file and PostgreSQL server;
# the browser tests share one worker (tests/conftest.py). TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= auto
test: catalogs system-packages
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

docs: install
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html

# Known vulnerabilities in the installed dependencies (pip-audit), less the accepted ones.
audit: install
	$(BIN)/python scripts/audit-dependencies $$($(BIN)/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")

bench: catalogs system-packages
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var docs/_build
