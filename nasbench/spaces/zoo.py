"""Published DARTS/NASNet-form cells, with where they come from.

``zoo`` is a read-only mapping name -> :class:`~nasbench.spaces.genotype.Genotype`
(``zoo["DARTS_V2"]``); :func:`zoo_info` gives the paper, year, search dataset,
search cost and the CIFAR-10 figures the paper reports; :func:`zoo_citation`
a one-line citation.

Sources of the cell text (input 0 = c_{k-2}, 1 = c_{k-1}, 2.. = intermediate nodes):

- NASNet-A, AmoebaNet-A, DARTS_V1, DARTS_V2: ``cnn/genotypes.py`` of the DARTS
  code (github.com/quark0/darts), which transcribes the NASNet and AmoebaNet
  papers' cells. NASNet-A and AmoebaNet-A have 5 nodes, the NASNet ops
  ``sep_conv_7x7`` and ``conv_7x1_1x7``, repeated inputs, and concatenate only
  the nodes no other node uses.
- ENAS: the ENAS paper's CIFAR-10 micro cells (Pham et al. 2018, Fig. 8) in the
  DARTS form. Public transcriptions (AutoDL-Projects' ``ENASNet``, NSGA-Net's
  ``ENAS`` and others) disagree on one edge each; we keep the majority reading of
  each edge and ENAS's own rule of concatenating the unused nodes (reduce: 2, 3, 6).
- GDAS: ``GDAS_V1`` of the GDAS authors' code (github.com/D-X-Y/AutoDL-Projects),
  the cell pair found when both cells are searched.
- PC-DARTS: ``PCDARTS`` of github.com/yuhuixu1993/PC-DARTS (the CIFAR-10 cell).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from nasbench.errors import SpaceError, closest_name
from nasbench.spaces.genotype import Genotype


@dataclass(frozen=True)
class ZooInfo:
    """What the paper of a zoo cell reports.

    Attributes:
        name: the zoo key.
        paper: the paper title.
        authors: first author et al.
        venue: where it was published.
        year: publication year.
        url: the paper (arXiv).
        dataset: the dataset the cell was searched on.
        search_method: "RL", "evolution" or "gradient".
        search_cost_gpu_days: the reported search cost.
        params_m: reported CIFAR-10 parameters, millions (DARTS-style network:
            20 cells, C=36, for the gradient methods).
        test_error: reported CIFAR-10 test error, percent (with cutout).
        source: where the cell text was taken from.
    """

    name: str
    paper: str
    authors: str
    venue: str
    year: int
    url: str
    dataset: str
    search_method: str
    search_cost_gpu_days: float
    params_m: float
    test_error: float
    source: str

    def citation(self) -> str:
        """Return a one-line citation."""
        return f"{self.authors} ({self.year}). {self.paper}. {self.venue}. {self.url}"


_NASNET_A = Genotype(
    normal=[
        ("sep_conv_5x5", 1), ("sep_conv_3x3", 0),
        ("sep_conv_5x5", 0), ("sep_conv_3x3", 0),
        ("avg_pool_3x3", 1), ("skip_connect", 0),
        ("avg_pool_3x3", 0), ("avg_pool_3x3", 0),
        ("sep_conv_3x3", 1), ("skip_connect", 1),
    ],
    normal_concat=[2, 3, 4, 5, 6],
    reduce=[
        ("sep_conv_5x5", 1), ("sep_conv_7x7", 0),
        ("max_pool_3x3", 1), ("sep_conv_7x7", 0),
        ("avg_pool_3x3", 1), ("sep_conv_5x5", 0),
        ("skip_connect", 3), ("avg_pool_3x3", 2),
        ("sep_conv_3x3", 2), ("max_pool_3x3", 1),
    ],
    reduce_concat=[4, 5, 6],
)  # fmt: skip

_AMOEBANET_A = Genotype(
    normal=[
        ("avg_pool_3x3", 0), ("max_pool_3x3", 1),
        ("sep_conv_3x3", 0), ("sep_conv_5x5", 2),
        ("sep_conv_3x3", 0), ("avg_pool_3x3", 3),
        ("sep_conv_3x3", 1), ("skip_connect", 1),
        ("skip_connect", 0), ("avg_pool_3x3", 1),
    ],
    normal_concat=[4, 5, 6],
    reduce=[
        ("avg_pool_3x3", 0), ("sep_conv_3x3", 1),
        ("max_pool_3x3", 0), ("sep_conv_7x7", 2),
        ("sep_conv_7x7", 0), ("avg_pool_3x3", 1),
        ("max_pool_3x3", 0), ("max_pool_3x3", 1),
        ("conv_7x1_1x7", 0), ("sep_conv_3x3", 5),
    ],
    reduce_concat=[3, 4, 6],
)  # fmt: skip

_ENAS = Genotype(
    normal=[
        ("sep_conv_3x3", 1), ("skip_connect", 1),
        ("sep_conv_5x5", 1), ("skip_connect", 0),
        ("avg_pool_3x3", 0), ("sep_conv_3x3", 1),
        ("sep_conv_3x3", 0), ("avg_pool_3x3", 1),
        ("sep_conv_5x5", 1), ("avg_pool_3x3", 0),
    ],
    normal_concat=[2, 3, 4, 5, 6],
    reduce=[
        ("sep_conv_5x5", 0), ("avg_pool_3x3", 1),
        ("sep_conv_3x3", 1), ("avg_pool_3x3", 1),
        ("sep_conv_3x3", 1), ("avg_pool_3x3", 1),
        ("sep_conv_5x5", 4), ("avg_pool_3x3", 1),
        ("sep_conv_3x3", 5), ("sep_conv_5x5", 0),
    ],
    reduce_concat=[2, 3, 6],
)  # fmt: skip

_DARTS_V1 = Genotype(
    normal=[
        ("sep_conv_3x3", 1), ("sep_conv_3x3", 0),
        ("skip_connect", 0), ("sep_conv_3x3", 1),
        ("skip_connect", 0), ("sep_conv_3x3", 1),
        ("sep_conv_3x3", 0), ("skip_connect", 2),
    ],
    normal_concat=[2, 3, 4, 5],
    reduce=[
        ("max_pool_3x3", 0), ("max_pool_3x3", 1),
        ("skip_connect", 2), ("max_pool_3x3", 0),
        ("max_pool_3x3", 0), ("skip_connect", 2),
        ("skip_connect", 2), ("avg_pool_3x3", 0),
    ],
    reduce_concat=[2, 3, 4, 5],
)  # fmt: skip

_DARTS_V2 = Genotype(
    normal=[
        ("sep_conv_3x3", 0), ("sep_conv_3x3", 1),
        ("sep_conv_3x3", 0), ("sep_conv_3x3", 1),
        ("sep_conv_3x3", 1), ("skip_connect", 0),
        ("skip_connect", 0), ("dil_conv_3x3", 2),
    ],
    normal_concat=[2, 3, 4, 5],
    reduce=[
        ("max_pool_3x3", 0), ("max_pool_3x3", 1),
        ("skip_connect", 2), ("max_pool_3x3", 1),
        ("max_pool_3x3", 0), ("skip_connect", 2),
        ("skip_connect", 2), ("max_pool_3x3", 1),
    ],
    reduce_concat=[2, 3, 4, 5],
)  # fmt: skip

_GDAS = Genotype(
    normal=[
        ("skip_connect", 0), ("skip_connect", 1),
        ("skip_connect", 0), ("sep_conv_5x5", 2),
        ("sep_conv_3x3", 3), ("skip_connect", 0),
        ("sep_conv_5x5", 4), ("sep_conv_3x3", 3),
    ],
    normal_concat=[2, 3, 4, 5],
    reduce=[
        ("sep_conv_5x5", 0), ("sep_conv_3x3", 1),
        ("sep_conv_5x5", 2), ("sep_conv_5x5", 1),
        ("dil_conv_5x5", 2), ("sep_conv_3x3", 1),
        ("sep_conv_5x5", 0), ("sep_conv_5x5", 1),
    ],
    reduce_concat=[2, 3, 4, 5],
)  # fmt: skip

_PC_DARTS = Genotype(
    normal=[
        ("sep_conv_3x3", 1), ("skip_connect", 0),
        ("sep_conv_3x3", 0), ("dil_conv_3x3", 1),
        ("sep_conv_5x5", 0), ("sep_conv_3x3", 1),
        ("avg_pool_3x3", 0), ("dil_conv_3x3", 1),
    ],
    normal_concat=[2, 3, 4, 5],
    reduce=[
        ("sep_conv_5x5", 1), ("max_pool_3x3", 0),
        ("sep_conv_5x5", 1), ("sep_conv_5x5", 2),
        ("sep_conv_3x3", 0), ("sep_conv_3x3", 3),
        ("sep_conv_3x3", 1), ("sep_conv_3x3", 2),
    ],
    reduce_concat=[2, 3, 4, 5],
)  # fmt: skip

_DARTS_SOURCE = "github.com/quark0/darts cnn/genotypes.py"
_INFO = (
    ZooInfo(
        "NASNet-A",
        "Learning Transferable Architectures for Scalable Image Recognition",
        "Zoph, Vasudevan, Shlens, Le", "CVPR", 2018, "https://arxiv.org/abs/1707.07012",
        "CIFAR-10", "RL", 1800.0, 3.3, 2.65, _DARTS_SOURCE,
    ),
    ZooInfo(
        "AmoebaNet-A",
        "Regularized Evolution for Image Classifier Architecture Search",
        "Real, Aggarwal, Huang, Le", "AAAI", 2019, "https://arxiv.org/abs/1802.01548",
        "CIFAR-10", "evolution", 3150.0, 3.2, 3.34, _DARTS_SOURCE,
    ),
    ZooInfo(
        "ENAS",
        "Efficient Neural Architecture Search via Parameter Sharing",
        "Pham, Guan, Zoph, Le, Dean", "ICML", 2018, "https://arxiv.org/abs/1802.03268",
        "CIFAR-10", "RL", 0.5, 4.6, 2.89,
        "ENAS paper Fig. 8, majority of AutoDL-Projects and NSGA-Net transcriptions",
    ),
    ZooInfo(
        "DARTS_V1",
        "DARTS: Differentiable Architecture Search (first order)",
        "Liu, Simonyan, Yang", "ICLR", 2019, "https://arxiv.org/abs/1806.09055",
        "CIFAR-10", "gradient", 1.5, 3.3, 3.00, _DARTS_SOURCE,
    ),
    ZooInfo(
        "DARTS_V2",
        "DARTS: Differentiable Architecture Search (second order)",
        "Liu, Simonyan, Yang", "ICLR", 2019, "https://arxiv.org/abs/1806.09055",
        "CIFAR-10", "gradient", 4.0, 3.3, 2.76, _DARTS_SOURCE,
    ),
    ZooInfo(
        "GDAS",
        "Searching for A Robust Neural Architecture in Four GPU Hours",
        "Dong, Yang", "CVPR", 2019, "https://arxiv.org/abs/1910.04465",
        "CIFAR-10", "gradient", 0.21, 3.4, 2.93,
        "github.com/D-X-Y/AutoDL-Projects GDAS_V1",
    ),
    ZooInfo(
        "PC-DARTS",
        "PC-DARTS: Partial Channel Connections for Memory-Efficient Architecture Search",
        "Xu, Xie, Zhang, Chen, Qi, Tian, Xiong", "ICLR", 2020,
        "https://arxiv.org/abs/1907.05737",
        "CIFAR-10", "gradient", 0.1, 3.6, 2.57,
        "github.com/yuhuixu1993/PC-DARTS genotypes.py PCDARTS",
    ),
)  # fmt: skip

_CELLS = {
    "NASNet-A": _NASNET_A,
    "AmoebaNet-A": _AMOEBANET_A,
    "ENAS": _ENAS,
    "DARTS_V1": _DARTS_V1,
    "DARTS_V2": _DARTS_V2,
    "GDAS": _GDAS,
    "PC-DARTS": _PC_DARTS,
}

zoo: MappingProxyType[str, Genotype] = MappingProxyType(_CELLS)
_INFO_BY_NAME: MappingProxyType[str, ZooInfo] = MappingProxyType({i.name: i for i in _INFO})


def zoo_info(name: str) -> ZooInfo:
    """Return what the paper of a zoo cell reports.

    Args:
        name: a key of :data:`zoo`, e.g. "DARTS_V2".

    Returns:
        The :class:`ZooInfo`.

    Example:
        >>> zoo_info("DARTS_V2").params_m
        3.3
    """
    if name not in _INFO_BY_NAME:
        hint = closest_name(str(name), list(zoo))
        raise SpaceError(f"no zoo cell named {name!r}; known: {', '.join(zoo)}.{hint}")
    return _INFO_BY_NAME[name]


def zoo_citation(name: str) -> str:
    """Return a one-line citation for a zoo cell.

    Args:
        name: a key of :data:`zoo`.

    Returns:
        "Authors (year). Title. Venue. URL".

    Example:
        >>> zoo_citation("GDAS")
        'Dong, Yang (2019). Searching for A Robust Neural Architecture in Four GPU Hours. CVPR. https://arxiv.org/abs/1910.04465'
    """
    return zoo_info(name).citation()


def zoo_table() -> list[dict[str, Any]]:
    """Return one dict per zoo cell (name, paper, year, cost, params, error), for a DataFrame."""
    return [
        {k: v for k, v in vars(info).items() if k != "source"} | {"citation": info.citation()}
        for info in _INFO
    ]
