"""flannel semantics: Go flag parsing, systemd command-line expansion, the effective configuration
and the external-interface choice flanneld would make on a host."""
