"""What a user can do, shared by every entry point: the command line today, the staff pages and
background jobs next.  Each action takes the ``Services`` it works with, opens its own
transactions, and raises a ``KutubxonaError`` (one line for the user) when it cannot be done.

This package imports nothing at load: an import worker process loads only what it needs.
"""
