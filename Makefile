# Developer commands (see README.md). Odoo 19 is found as $ODOO_BIN, else `odoo` on PATH,
# else set up by `run` and `test` in a cache folder ($ODOO_SRC or a clone of $ODOO_REPO);
# its addons path comes from Odoo's configuration file ($ODOO_RC or ~/.odoorc).
.PHONY: run test lint bench uninstall-check pot setup-odoo pg-stop

run:  ## serve Odoo with the module and demo data on http://localhost:8069
	@bash .ci/dev.sh run

test:  ## install the module and its integration addons in a fresh database, run every test
	@bash .ci/dev.sh test $(ARGS)

lint:  ## ruff, pylint-odoo on each addon, XML and CSV validity (= pre-commit run -a)
	@bash .ci/dev.sh lint

bench:  ## benchmark the bill run (ARGS="--workers 2 [--engine queue_job] [--servers 2] [--kill]", "--load 8")
	@bash .ci/dev.sh bench $(ARGS)

uninstall-check:  ## install everything, uninstall each integration addon then the module
	@bash .ci/dev.sh uninstall-check

pot:  ## export i18n/<addon>.pot of the module and of each integration addon
	@bash .ci/dev.sh pot

setup-odoo:  ## set Odoo 19 up in the cache folder when none is found (run and test do it)
	@bash .ci/dev.sh setup-odoo

pg-stop:  ## stop the private PostgreSQL cluster
	@bash .ci/dev.sh pg-stop
