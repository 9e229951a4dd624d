"""Running searches: the loops that write a run store, and the commands that start them.

``search.py`` starts and resumes a search (``nasbench.search``/``nasbench.resume``),
``bilevel.py`` is the loop every differentiable strategy shares, ``discrete.py`` runs the
sample-and-evaluate strategies, ``run_setup.py`` opens or creates a run and records how it
ended, and ``commands.py`` backs the CLI's search commands. Nothing is imported here, so
importing one module does not pull in the others (and torch with them).
"""
