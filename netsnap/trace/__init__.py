"""The one packet-path analysis: hop-by-hop traces through routing, netfilter (every enforced view),
VXLAN and security groups, with three-valued verdicts.

Public API:
  netsnap.trace.engine.trace(snapshot, src_host, dst_ip, proto="icmp", port=None, security_groups=None, size=None)
  netsnap.trace.engine.TraceEngine(snapshot, security_groups).trace(src_host, dst_ip, proto, port, size,
                                                                    src_ip=None, bypass=frozenset())
  netsnap.trace.routing.lookup (the one route lookup), netsnap.trace.netfilter.Netfilter (the one evaluator)
  netsnap.trace.render.render_text(result)
Results are netsnap.trace.result.TraceResult (verdict, disposition, reason, hops, branches, reply,
assumptions, doubts). The reachability graph that holds the required flows' answers is netsnap.graph.
"""
