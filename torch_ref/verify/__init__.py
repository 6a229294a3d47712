"""``verify``: the runner, its report, the module loader and the adapters."""
