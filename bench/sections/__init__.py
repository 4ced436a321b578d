"""One module per row group of issue 5; each has `run(context) -> list[Row]`."""
