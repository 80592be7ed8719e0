"""netsnap's built-in rules, one per file (installed as the package `netsnap.builtin_rules`).

Convention (checked by tests/engine): a module `nsNNN_<name>.py` holds one `netsnap.engine.rule.Rule`
subclass whose class attribute `meta` is a `RuleMeta` (ID, kebab-case name, cause from the fixed
vocabulary, severity, confidence, category, required sources, the what/why/example/fix doc sections), and
ends with `rule = MyRule()`; discovery imports every module not starting with `_` and reads `rule`.
IDs are grouped: NS1xx routing, NS2xx firewall, NS3xx flannel/overlay, NS4xx kernel; never reused.
Files are flat (no sub-packages) because the wheel ships exactly the package `netsnap.builtin_rules`.
Every rule has a firing and a passing case under fixtures/rules/<ID>/{fire,pass}/.
"""
