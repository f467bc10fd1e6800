"""Facts the code rules read from function bodies: scopes, data flow, training-loop events."""
