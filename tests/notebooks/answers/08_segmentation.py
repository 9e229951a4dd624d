"""Reference answers of notebooks/08_segmentation.ipynb (cell source per exercise id)."""

ANSWERS = {
    "foreground": 'answer = len([name for name in info.class_names if name != "background"])',
    "up_edges": (
        "from nasbench.models.cells import cell_edges\n"
        "from nasbench.spaces.seg_genotypes import edge_role\n\n"
        'answer = sum(edge_role("up", inp) == "up" for node, inp in cell_edges(NODES))'
    ),
    "up_op": "answer = [op for op, j in result.genotype.up if j == 1][0]",
    "beats_floor": 'answer = bool(comparison.loc["NAS-Unet (retrained)", "dice"] > floor["dice"])',
    "dints_paths": 'answer = 3 * DINTS["skeleton"]["depth"] - 2',
    "trellis_moves": (
        "moves, previous = [], 0\n"
        "for scale in trellis_result.genotype.path:\n"
        '    moves.append({1: "down", 0: "same", -1: "up"}[scale - previous])\n'
        "    previous = scale\n"
        "answer = tuple(moves)"
    ),
    "c2fnas_topology": 'answer = tuple(int(v) for v in ranking.loc[0, "topology"].split("-"))',
}
