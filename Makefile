# make run   - the product on its embedded defaults (SQLite, local files, in-process jobs)
# make test  - the whole test suite, on SQLite and on a throwaway PostgreSQL
VENV     ?= .venv
PYTHON   ?= python3
BIN       = $(VENV)/bin
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

run: catalogs
	@scripts/ensure-system-packages xmlsec1 tesseract-ocr
	mkdir -p var
	$(BIN)/mypages -c development.ini db upgrade
	$(BIN)/mypages -c development.ini demo
	$(BIN)/pserve development.ini

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
