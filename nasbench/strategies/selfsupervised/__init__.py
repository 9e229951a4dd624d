"""Self-supervised search: UnNAS searches with a pretext task instead of labels.

Importing this package registers ``unnas`` (kind ``"self-supervised"``) in
:mod:`nasbench.strategies`.

Example:
    >>> from nasbench.strategies import strategy_names
    >>> strategy_names("self-supervised")
    ('unnas',)
"""

from __future__ import annotations

from nasbench.strategies.selfsupervised.unnas import Unnas, UnnasConfig

__all__ = ["Unnas", "UnnasConfig"]
