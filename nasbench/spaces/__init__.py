"""Search spaces: operations, genotypes, skeletons, the spaces and the zoo.

- :mod:`~nasbench.spaces.ops`: the operation registry (2D and 3D).
- :mod:`~nasbench.spaces.genotype`: frozen genotypes and :func:`parse_genotype`.
- :mod:`~nasbench.spaces.skeleton`: the macro :class:`Skeleton` cells are stacked in.
- :mod:`~nasbench.spaces.base`: the space protocol and registry
  (:func:`create_space`, :func:`space_from_dict`).
- :class:`CellSpace` ("darts"), :class:`NB201Space` ("nb201"), :class:`ChainSpace` ("chain"),
  :class:`NB101Space` ("nb101", the NAS-Bench-101 DAG cells, :class:`NB101Genotype`).
- segmentation: :class:`NasUnetSpace` ("nasunet"), :class:`VnasSpace` ("vnas", 3D) and
  :class:`DintsSpace` ("dints", MONAI's DiNTS); their genotypes in
  :mod:`~nasbench.spaces.seg_genotypes`; :class:`TrellisSpace` ("trellis", the
  Auto-DeepLab / MS-NAS path over scales and cell, :class:`TrellisGenotype`).
- reconstruction: :class:`ReconSpace` ("unrolled"), cascades of a searched cell with
  k-space data consistency; :class:`ReconGenotype`, :class:`ReconSkeleton`.
- :class:`MorphGenotype` ("morph"): the layers and skips of a NASH network-morphism run
  (the network and the morphisms are in :mod:`nasbench.models.morphism`).
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
from nasbench.spaces.c2fnas import C2fnasGenotype, C2fnasSpace
from nasbench.spaces.cell import CellSpace
from nasbench.spaces.chain import ChainSpace
from nasbench.spaces.dints import DintsSpace
from nasbench.spaces.genotype import (
    ChainGenotype,
    ChainLayer,
    Genotype,
    NB201Genotype,
    genotype_from_dict,
    parse_genotype,
)
from nasbench.spaces.morph import MorphGenotype, MorphLayer
from nasbench.spaces.nasunet import NasUnetSpace
from nasbench.spaces.nb101 import NB101Genotype, NB101Space
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
from nasbench.spaces.recon import ReconGenotype, ReconSkeleton, ReconSpace
from nasbench.spaces.seg_genotypes import DintsGenotype, NasUnetGenotype, VnasGenotype
from nasbench.spaces.skeleton import Skeleton, UNetSkeleton
from nasbench.spaces.trellis import TrellisGenotype, TrellisSpace
from nasbench.spaces.vnas import VnasSpace
from nasbench.spaces.zoo import ZooInfo, zoo, zoo_citation, zoo_info

__all__ = [
    "ENCODINGS",
    "FAMILIES",
    "OP_SETS",
    "C2fnasGenotype",
    "C2fnasSpace",
    "CellSpace",
    "ChainGenotype",
    "ChainLayer",
    "ChainSpace",
    "DintsGenotype",
    "DintsSpace",
    "Genotype",
    "MorphGenotype",
    "MorphLayer",
    "NB101Genotype",
    "NB101Space",
    "NB201Genotype",
    "NB201Space",
    "NasUnetGenotype",
    "NasUnetSpace",
    "OpSpec",
    "ReconGenotype",
    "ReconSkeleton",
    "ReconSpace",
    "SearchSpace",
    "Skeleton",
    "UNetSkeleton",
    "VnasGenotype",
    "VnasSpace",
    "Space",
    "TrellisGenotype",
    "TrellisSpace",
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
