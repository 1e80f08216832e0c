"""HTML views, one module per subsystem (callers import the submodule)."""
