"""Frontends turn source files and exported graphs into the layer graph (gradlint.ir)."""
