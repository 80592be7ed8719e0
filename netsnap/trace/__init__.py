"""Reachability: the networkx graph of a Snapshot and the hop-by-hop packet trace.

Public API:
  netsnap.trace.engine.trace(snapshot, src_host, dst_ip, proto="icmp", port=None, security_groups=None, size=None)
  netsnap.trace.engine.TraceEngine(snapshot, security_groups).trace(src_host, dst_ip, proto, port, size)
  netsnap.trace.graph.build_graph(snapshot, security_groups) (also TraceEngine.graph)
  netsnap.trace.render.render_text(result)
Results are netsnap.trace.result.TraceResult (verdict, disposition, reason, hops, branches, reply).
"""
