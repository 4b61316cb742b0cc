"""The DaVinci Resolve / Fusion Studio "Infusion" script panel: a thin adapter over
``infusion.host_plugins.common``.

Modules: ``fields`` (the panel's fields, read into a ShotSpec, kept in the comp), ``window`` (the
UIManager window), ``comp_tools`` (tools by name, a locked undo block, the comp's range), ``render``
(inputs to EXR through temporary Savers), ``result`` (the result Loader beside the source),
``updates`` (a Follower's updates handed to the UI thread), ``panel`` (the buttons and the timer;
``main`` opens the panel), ``install`` (the installer, run outside Fusion). Fusion hands its objects
(``fu``, ``comp``, ``bmd``) to ``panel.main``: nothing here imports a Fusion module. See README.md
beside this file.
"""
