"""kleroterion's top layer: the command line, the launcher that maps service names to the
services, the operators' ``ops`` commands and the public plugin API (``kleroterion.plugin``).

Nothing under ``services/`` imports from here; this package sits above the services. It is
kept free of imports so that ``import kleroterion.plugin`` stays cheap for plugin authors.
"""
