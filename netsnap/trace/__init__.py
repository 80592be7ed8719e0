"""Reachability: the networkx graph of a Snapshot and the hop-by-hop packet trace."""
