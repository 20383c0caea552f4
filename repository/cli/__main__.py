"""``python -m repository.cli``."""

from repository.cli import main

main()
