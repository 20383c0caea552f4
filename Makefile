# Shortcuts for dev.py, which needs nothing but python3.
.PHONY: run test setup bench messages docker-test
run:
	python3 dev.py run
test:
	python3 dev.py test
setup:
	python3 dev.py setup

# Extract the interface's messages and merge them into the four catalogues; translate what is new
# (a test fails while any catalogue misses a message).  The app compiles them when it starts.
messages:
	mkdir -p var
	.venv/bin/pybabel extract -F babel.cfg -k _l --no-location --sort-output -o var/messages.pot .
	.venv/bin/pybabel update -i var/messages.pot -d repository/web/translations --width 120 --ignore-obsolete

# Build the application image here and run it against this machine's PostgreSQL (docker/test.sh).
docker-test:
	docker/test.sh
