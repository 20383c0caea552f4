# Shortcuts for dev.py, which needs nothing but python3.
.PHONY: run test setup bench
run:
	python3 dev.py run
test:
	python3 dev.py test
setup:
	python3 dev.py setup
