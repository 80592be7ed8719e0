"""netsnap's built-in rules, one per file (installed as the package `netsnap.builtin_rules`)."""
