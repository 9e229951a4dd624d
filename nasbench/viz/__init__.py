"""Figures: graphviz drawings of genotypes, supernets and networks, and plotly charts.

Every drawing is a :class:`NasDigraph` (a ``graphviz.Digraph``) that shows inline in Jupyter and
exports with :func:`render` / :func:`save`, using the system ``dot`` or, without one, the
``graphviz-pure`` executable from PyPI.
"""

from __future__ import annotations

from nasbench.viz.alphas import plot_alpha_animation, plot_alpha_heatmap, plot_alphas
from nasbench.viz.comparison import plot_best_so_far
from nasbench.viz.detection import plot_detections, plot_froc
from nasbench.viz.dice import plot_dice_per_class
from nasbench.viz.dints_graph import draw_dints
from nasbench.viz.evaluator_correlation import plot_evaluator_correlations
from nasbench.viz.genotype_graph import diff_edges, draw_chain, draw_genotype, draw_nb201
from nasbench.viz.history import plot_eigenvalues, plot_history
from nasbench.viz.hp_distribution import hp_distribution, plot_hp_distribution
from nasbench.viz.hypernet_curve import hypernet_curve, plot_hypernet_curve
from nasbench.viz.landmarks import plot_agent_rewards, plot_landmark_estimates
from nasbench.viz.meta_learning import plot_adaptation, plot_learner_history
from nasbench.viz.nb101_graph import draw_nb101
from nasbench.viz.network_graph import draw_network
from nasbench.viz.overlay import plot_overlays
from nasbench.viz.palette import family_color, op_color, op_dash, op_line
from nasbench.viz.pareto import plot_pareto
from nasbench.viz.pretext import plot_pretext_correlation
from nasbench.viz.proxies import plot_proxy_vs_true
from nasbench.viz.recon import draw_unrolled, plot_reconstructions
from nasbench.viz.render import GraphvizError, NasDigraph, find_engine, render, save
from nasbench.viz.report import write_report
from nasbench.viz.supernet_graph import draw_supernet
from nasbench.viz.timeline import plot_genotype_timeline
from nasbench.viz.trellis_graph import draw_trellis, plot_trellis_betas, trellis_weights
from nasbench.viz.unet_graph import draw_unet_cells
from nasbench.viz.vnas_graph import draw_vnas

__all__ = [
    "GraphvizError",
    "NasDigraph",
    "diff_edges",
    "draw_chain",
    "draw_dints",
    "draw_genotype",
    "draw_nb101",
    "draw_nb201",
    "draw_network",
    "draw_supernet",
    "draw_trellis",
    "draw_unet_cells",
    "draw_unrolled",
    "draw_vnas",
    "family_color",
    "find_engine",
    "hp_distribution",
    "hypernet_curve",
    "op_color",
    "op_dash",
    "op_line",
    "plot_adaptation",
    "plot_alpha_animation",
    "plot_alpha_heatmap",
    "plot_agent_rewards",
    "plot_alphas",
    "plot_best_so_far",
    "plot_detections",
    "plot_dice_per_class",
    "plot_eigenvalues",
    "plot_evaluator_correlations",
    "plot_froc",
    "plot_genotype_timeline",
    "plot_history",
    "plot_hp_distribution",
    "plot_hypernet_curve",
    "plot_landmark_estimates",
    "plot_learner_history",
    "plot_overlays",
    "plot_pareto",
    "plot_pretext_correlation",
    "plot_proxy_vs_true",
    "plot_reconstructions",
    "plot_trellis_betas",
    "render",
    "save",
    "trellis_weights",
    "write_report",
]
