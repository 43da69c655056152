"""The Python API contract's public names, read from docs/python-api.md (the one place they are
written): for test_contract.py and for smoke.py, which `cargo xtask test-wheels` runs against each
installed wheel."""

from __future__ import annotations

import re
from pathlib import Path

CONTRACT = Path(__file__).resolve().parents[2] / "docs" / "python-api.md"


def contract_names() -> list[str]:
    """The contract's `__all__`, in its order."""
    block = CONTRACT.read_text().split("__all__ = [", 1)[1].split("]", 1)[0]
    names = re.findall(r"""['"](\w+)['"]""", block)
    assert names, f"{CONTRACT} lists no names in its `__all__`"
    return names


def added_names() -> list[str]:
    """The documented additions (section "Additions to the contract"), in their order."""
    block = CONTRACT.read_text().split("__all__ += [", 1)[1].split("]", 1)[0]
    names = re.findall(r"""['"](\w+)['"]""", block)
    assert names, f"{CONTRACT} lists no additions in its `__all__ += [...]`"
    return names
