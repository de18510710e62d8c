# Shortcuts for the scripts the README names.
.PHONY: install run test bench up
install: ; bash scripts/install.sh
run: ; bash scripts/run.sh
test: ; bash scripts/test.sh
bench: ; bash scripts/install.sh && .venv/bin/python -m bench
up: ; bash scripts/install.sh && .venv/bin/videogen up
