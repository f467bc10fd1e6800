x = 1  # noqa: GL999
