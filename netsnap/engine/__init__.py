"""The rule engine: rule metadata, discovery, running rules over a Snapshot, findings."""
