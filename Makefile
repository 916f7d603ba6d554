# Developer commands. Odoo is found as `odoo` on PATH (or $ODOO_BIN), its addons path in
# Odoo's own configuration file ($ODOO_RC or ~/.odoorc). See README.md.
.PHONY: run test lint bench uninstall-check pot pg-stop

run:  ## serve Odoo with the module and demo data on http://localhost:8069
	@bash .ci/dev.sh run

test:  ## install the module in a fresh database and run the whole test suite
	@bash .ci/dev.sh test $(ARGS)

lint:  ## ruff, pylint-odoo, XML and CSV validity
	@bash .ci/dev.sh lint

bench:  ## benchmark the bill run against Odoo's own invoicing
	@bash .ci/dev.sh bench $(ARGS)

uninstall-check:  ## install then uninstall the module, failing on logged errors
	@bash .ci/dev.sh uninstall-check

pot:  ## export i18n/customer_balance.pot from the code
	@bash .ci/dev.sh pot

pg-stop:  ## stop the private PostgreSQL cluster
	@bash .ci/dev.sh pg-stop
