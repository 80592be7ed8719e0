"""`netsnap diff`: compare a known-good host with a failing one, by meaning rather than by text."""
