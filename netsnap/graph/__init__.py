"""The reachability graph of a snapshot: structure, required flows and their answers."""
