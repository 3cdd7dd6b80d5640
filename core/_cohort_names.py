"""The bundled cohorts' names, importable without any data library (the command line's help lists them).

``core.data`` re-exports them as ``BUNDLED``; this module imports nothing.
"""

BUNDLED = ("actg175", "colon", "warfarin")
