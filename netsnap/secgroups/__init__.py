"""Cloud security groups: a normalised rule model, loaders for provider exports, evaluation."""

from netsnap.secgroups.attach import attach, parse_attach_spec
from netsnap.secgroups.evaluate import SGDecision, evaluate, required_rule
from netsnap.secgroups.formats import SecGroupError, load_file, load_text
from netsnap.secgroups.model import PortRange, SecurityGroups, SecurityGroupSet, SGRule

__all__ = [
    "PortRange",
    "SGDecision",
    "SGRule",
    "SecGroupError",
    "SecurityGroupSet",
    "SecurityGroups",
    "attach",
    "evaluate",
    "load_file",
    "load_text",
    "parse_attach_spec",
    "required_rule",
]
