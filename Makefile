# make run   - the product on its embedded defaults (SQLite, local files, in-process jobs)
# make test  - the whole test suite, on SQLite and on a throwaway PostgreSQL
VENV     ?= .venv
PYTHON   ?= python3
BIN       = $(VENV)/bin
PLUGINS   = examples/notes plugins/sso_azure plugins/sso_google devtools
CATALOGS  = core/mypages/locale:mypages examples/notes/mypages_example_notes/locale:mypages_example_notes \
            plugins/sso_azure/mypages_sso_azure/locale:mypages_sso_azure \
            plugins/sso_google/mypages_sso_google/locale:mypages_sso_google \
            devtools/mypages_devtools/locale:mypages_devtools

.PHONY: run test install catalogs extract system-packages docs bench audit clean

$(BIN)/.installed: setup.cfg $(foreach p,$(PLUGINS),$(p)/setup.cfg)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade --quiet pip 'setuptools<81' wheel
	$(BIN)/pip install --quiet --only-binary lxml,xmlsec -e '.[test,docs,s3]' $(foreach p,$(PLUGINS),-e $(p))
	$(BIN)/python -c "import xmlsec, onelogin.saml2.auth"  # lxml and xmlsec agree on libxml2
	touch $@

install: $(BIN)/.installed

catalogs: install
	@for spec in $(CATALOGS); do \
	  dir=$${spec%%:*}; domain=$${spec##*:}; \
	  $(BIN)/pybabel compile --statistics -d $$dir -D $$domain 2>&1 | grep -v "^compiling" || true; \
	done

# Refresh the .pot templates and merge new strings into every language's .po.
LANGUAGES = sv en da nb fi lt lv et
extract: | install
	$(BIN)/pybabel extract -F babel.cfg -o core/mypages/locale/mypages.pot --no-location \
	  --project mypages core/mypages
	cd examples/notes && $(abspath $(BIN))/pybabel extract -F babel.cfg --no-location \
	  --project mypages-example-notes \
	  -o mypages_example_notes/locale/mypages_example_notes.pot mypages_example_notes
	cd plugins/sso_azure && $(abspath $(BIN))/pybabel extract -F babel.cfg --no-location \
	  --project mypages-sso-azure -o mypages_sso_azure/locale/mypages_sso_azure.pot mypages_sso_azure
	cd plugins/sso_google && $(abspath $(BIN))/pybabel extract -F babel.cfg --no-location \
	  --project mypages-sso-google -o mypages_sso_google/locale/mypages_sso_google.pot mypages_sso_google
	cd devtools && $(abspath $(BIN))/pybabel extract -F babel.cfg --no-location \
	  --project mypages-devtools -o mypages_devtools/locale/mypages_devtools.pot mypages_devtools
	@for spec in $(CATALOGS); do \
	  dir=$${spec%%:*}; domain=$${spec##*:}; \
	  for lang in $(LANGUAGES); do \
	    if [ -f $$dir/$$lang/LC_MESSAGES/$$domain.po ]; then \
	      $(BIN)/pybabel update -i $$dir/$$domain.pot -d $$dir -D $$domain -l $$lang \
	        --no-fuzzy-matching --ignore-obsolete; \
	    else \
	      $(BIN)/pybabel init -i $$dir/$$domain.pot -d $$dir -D $$domain -l $$lang; \
	    fi; \
	  done; \
	done

run: catalogs
	@scripts/ensure-system-packages xmlsec1
	mkdir -p var
	$(BIN)/mypages -c development.ini db upgrade
	$(BIN)/mypages -c development.ini demo
	$(BIN)/pserve development.ini

# PostgreSQL server programs and Chromium for the tests (Debian; needs root).
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
