"""One module per family of rules; every Rule subclass defined here is discovered."""
