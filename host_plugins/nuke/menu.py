"""Menu entries and callbacks: run once from the plugin folder's menu.py."""
from __future__ import annotations

import nuke

from . import node


def register() -> None:
    """An "Infusion" menu in the Nodes toolbar (and so in the Tab menu), and re-attaching on script load."""
    nuke.menu("Nodes").addMenu("Infusion").addCommand("Infusion", node.create)
    nuke.addOnScriptLoad(node.reattach_all)
