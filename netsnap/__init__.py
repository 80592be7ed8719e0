"""netsnap: offline analyzer for network dumps collected from container hosts."""

__version__ = "0.1.0"
