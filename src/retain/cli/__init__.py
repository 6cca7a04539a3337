"""The ``retain`` command line: thin adapters over domain functions (no business logic here)."""
