"""One module per scenario, each with `run(ctx: Context) -> list[Figure]` (bench.common)."""
