"""The Nuke "Infusion" node: a thin adapter over ``infusion.host_plugins.common``.

Modules: ``knobs`` (the node's knobs, read into a ShotSpec), ``graph`` (the internal Write, Read
and Switch), ``progress`` (updates to a ProgressTask and the knobs), ``node`` (create and the
buttons), ``menu`` (menu entries and the script-load callback), ``install`` (the installer, run
outside Nuke). Everything but ``install`` imports ``nuke``. See README.md beside this file.
"""
