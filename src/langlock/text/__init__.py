"""The core: scripts, protected regions, lexicons, detectors, check, repair, metrics.

Nothing here imports torch, a server or an engine; word lists load lazily on first use.
"""
