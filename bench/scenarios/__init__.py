"""One module per scenario; each has `run(ctx: bench.common.Context) -> list[bench.common.Figure]`."""
