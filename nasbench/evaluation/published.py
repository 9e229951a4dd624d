"""MedMNIST v2's published test figures, for a searched network's table to stand beside.

J. Yang et al., "MedMNIST v2 - A large-scale lightweight benchmark for 2D and 3D
biomedical image classification", Scientific Data 10, 41 (2023), the 2D benchmark table:
test AUC / ACC of ResNet-18/50 at 28 and 224 px (trained 100 epochs) and three AutoML
tools with their own budgets. Used by ``benchmarks/medmnist.py`` and lesson 09.
"""

from __future__ import annotations

import pandas as pd

# (test AUC, test ACC) of the MedMNIST v2 paper's 2D benchmark, 28x28 inputs unless named.
METHODS = ("ResNet-18 (28)", "ResNet-18 (224)", "ResNet-50 (28)", "ResNet-50 (224)",
           "auto-sklearn", "AutoKeras", "Google AutoML Vision")  # fmt: skip
_TABLE = """
# AUC ACC for each of METHODS, in order (0.xxx written .xxx)
pathmnist      .983 .907 .989 .909 .990 .911 .989 .892 .934 .716 .959 .834 .944 .728
chestmnist     .768 .947 .773 .947 .769 .947 .773 .948 .649 .779 .742 .937 .778 .948
dermamnist     .917 .735 .920 .754 .913 .735 .912 .731 .902 .719 .915 .749 .914 .768
octmnist       .943 .743 .958 .763 .952 .762 .958 .776 .887 .601 .955 .763 .963 .771
pneumoniamnist .944 .854 .956 .864 .948 .854 .962 .884 .942 .855 .947 .878 .991 .946
retinamnist    .717 .524 .710 .493 .726 .528 .716 .511 .690 .515 .719 .503 .750 .531
breastmnist    .901 .863 .891 .833 .857 .812 .866 .842 .836 .803 .871 .831 .919 .861
bloodmnist     .998 .958 .998 .963 .997 .956 .997 .950 .984 .878 .998 .961 .998 .966
tissuemnist    .930 .676 .933 .681 .931 .680 .932 .680 .828 .532 .921 .642 .924 .673
organamnist    .997 .935 .998 .951 .997 .935 .998 .947 .963 .762 .994 .905 .990 .886
organcmnist    .992 .900 .994 .920 .992 .905 .993 .911 .976 .829 .990 .879 .988 .877
organsmnist    .972 .782 .974 .778 .972 .770 .975 .785 .945 .672 .974 .813 .964 .749
"""


def published(dataset: str) -> pd.DataFrame:
    """The MedMNIST v2 paper's rows for ``dataset`` (empty for a set it does not tabulate).

    Args:
        dataset: a MedMNIST 2D name, e.g. ``"breastmnist"``.

    Returns:
        Columns ``model, test_auc, test_acc``.

    Example:
        >>> rows = published("breastmnist").set_index("model")
        >>> float(rows.loc["Google AutoML Vision", "test_auc"])
        0.919
    """
    rows = {line.split()[0]: line.split()[1:] for line in _TABLE.strip().splitlines()[1:]}
    numbers = [float(v) for v in rows.get(dataset, [])]
    rows = [{"model": m, "test_auc": numbers[2 * i], "test_acc": numbers[2 * i + 1]}
            for i, m in enumerate(METHODS) if numbers]  # fmt: skip
    return pd.DataFrame(rows, columns=["model", "test_auc", "test_acc"])
