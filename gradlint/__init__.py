"""gradlint: static analysis for PyTorch model code."""

__version__ = "0.10.0"

# the distribution's name on the package index ("gradlint" there is another project)
DISTRIBUTION = "torch-gradlint"
REPOSITORY = "https://github.com/gradlint/gradlint"
