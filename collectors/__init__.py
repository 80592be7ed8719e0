"""The host collector, `netsnap-collect.sh`, shipped in the wheel as package data of `netsnap.collectors`
(`netsnap collector --write DIR` / `--print`). The script is POSIX sh; this package holds no Python."""
