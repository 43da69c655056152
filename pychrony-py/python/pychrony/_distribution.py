"""The distribution's name, and the check for the unrelated ``pychrony`` distribution.

This package is distributed as ``chrony-monitor`` because ``pychrony`` on PyPI is another project.
Both install the import package ``pychrony/``: in one environment, one overwrites the other's files
and uninstalling either breaks both.
"""

import os
import warnings

#: pyproject.toml's ``name`` (test_install checks that they agree).
NAME = "chrony-monitor"

# How the other project's metadata directory starts, as pip and setuptools name it.
_OTHER_PREFIX = "pychrony-"
_METADATA_SUFFIXES = (".dist-info", ".egg-info")


def warn_if_other_installed(package_dir: str) -> None:
    """Warns (RuntimeWarning) when the directory holding this package also holds the other
    ``pychrony`` distribution's metadata. One directory listing: no importlib.metadata at import.
    (Had the other one been installed last, its ``__init__`` would run instead of this one.)"""
    site = os.path.dirname(package_dir)
    try:
        names = os.listdir(site)
    except OSError:
        return
    other = sorted(
        n
        for n in names
        if n.lower().startswith(_OTHER_PREFIX) and n.lower().endswith(_METADATA_SUFFIXES)
    )
    if other:
        warnings.warn(
            f"the unrelated 'pychrony' distribution ({other[0]}) is installed in {site} beside "
            f"{NAME}, and both install the package pychrony/: one has overwritten the other's "
            f"files. Run `pip uninstall pychrony {NAME}`, then `pip install {NAME}`.",
            RuntimeWarning,
            stacklevel=3,
        )
