"""Search spaces: operations, genotypes, skeletons, the spaces and the zoo.

- :mod:`~nasbench.spaces.ops`: the operation registry (2D and 3D).
- :mod:`~nasbench.spaces.genotype`: frozen genotypes and :func:`parse_genotype`.
- :mod:`~nasbench.spaces.skeleton`: the macro :class:`Skeleton` cells are stacked in.
- :mod:`~nasbench.spaces.base`: the space protocol and registry
  (:func:`create_space`, :func:`space_from_dict`).
- :class:`CellSpace` ("darts"), :class:`NB201Space` ("nb201"), :class:`ChainSpace` ("chain").
- :mod:`~nasbench.spaces.zoo`: published cells (``zoo["DARTS_V2"]``) and their citations.

Example:
    >>> from nasbench.spaces import create_space, zoo
    >>> create_space("darts").contains(zoo["DARTS_V2"])
    True
"""

from __future__ import annotations

from nasbench.spaces.base import (
    ENCODINGS,
    SearchSpace,
    Space,
    create_space,
    list_spaces,
    register_space,
    space_from_dict,
)
from nasbench.spaces.cell import CellSpace
from nasbench.spaces.chain import ChainSpace
from nasbench.spaces.genotype import (
    ChainGenotype,
    ChainLayer,
    Genotype,
    NB201Genotype,
    genotype_from_dict,
    parse_genotype,
)
from nasbench.spaces.nb201 import NB201Space
from nasbench.spaces.ops import (
    FAMILIES,
    OP_SETS,
    OpSpec,
    create_op,
    is_parameter_free,
    op_family,
    op_names,
    op_spatial_dims,
    register_op,
    register_op_set,
)
from nasbench.spaces.skeleton import Skeleton
from nasbench.spaces.zoo import ZooInfo, zoo, zoo_citation, zoo_info

__all__ = [
    "ENCODINGS",
    "FAMILIES",
    "OP_SETS",
    "CellSpace",
    "ChainGenotype",
    "ChainLayer",
    "ChainSpace",
    "Genotype",
    "NB201Genotype",
    "NB201Space",
    "OpSpec",
    "SearchSpace",
    "Skeleton",
    "Space",
    "ZooInfo",
    "create_op",
    "create_space",
    "genotype_from_dict",
    "is_parameter_free",
    "list_spaces",
    "op_family",
    "op_names",
    "op_spatial_dims",
    "parse_genotype",
    "register_op",
    "register_op_set",
    "register_space",
    "space_from_dict",
    "zoo",
    "zoo_citation",
    "zoo_info",
]
