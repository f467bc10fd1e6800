"""gradlint: static analysis for PyTorch model code."""

__version__ = "0.1.0"
