"""Turn a graphviz drawing into SVG, PNG or PDF bytes, with or without a system Graphviz.

Engine choice: the system ``dot`` when it is on PATH, otherwise the ``graphviz-pure`` executable
that ``pip install graphviz-pure`` puts next to the Python interpreter (a static Rust port of
Graphviz, so a plain pip install draws too). ``graphviz-pure`` writes SVG, PNG and JPEG but not
PDF; for PDF it renders a 300 dpi PNG that Pillow wraps into a one-page PDF (a raster PDF whose
page has the drawing's true size). The system ``dot`` writes a vector PDF.

Drawings are :class:`NasDigraph` objects: ``graphviz.Digraph`` whose ``pipe`` (used by Jupyter's
inline display) and ``render`` go through :func:`render` here instead of graphviz's own
``DOT_BINARY`` lookup, so notebooks show them without a system Graphviz and without touching
graphviz's module globals.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import graphviz

from nasbench.errors import NasbenchError

FORMATS = ("svg", "png", "pdf")
PDF_FALLBACK_DPI = 300
_PURE = "graphviz-pure"


class GraphvizError(NasbenchError, RuntimeError):
    """No Graphviz engine was found, or the engine failed on a drawing."""


@dataclass(frozen=True)
class Engine:
    """A Graphviz executable and what kind it is.

    Attributes:
        path: the executable.
        name: ``"dot"`` (system Graphviz) or ``"graphviz-pure"``.
    """

    path: str
    name: str

    @property
    def formats(self) -> tuple[str, ...]:
        """Output formats the executable writes itself."""
        return FORMATS if self.name == "dot" else ("svg", "png")


def _pure_candidates() -> list[Path]:
    """Places pip may have put the graphviz-pure executable, most specific first."""
    exe = _PURE + (".exe" if os.name == "nt" else "")
    places = [Path(sys.executable).parent / exe, Path(sysconfig.get_path("scripts")) / exe]
    try:
        # The wheel's RECORD lists the script relative to site-packages; this finds it even when
        # the interpreter runs from a venv whose bin/ is not on PATH.
        for file in metadata.files(_PURE) or ():
            if Path(file.name).stem == _PURE:
                places.append(Path(file.locate()).resolve())
    except metadata.PackageNotFoundError:
        pass
    found = shutil.which(_PURE)
    if found:
        places.append(Path(found))
    return places


def find_engine() -> Engine:
    """Return the Graphviz engine to use: the system ``dot``, else ``graphviz-pure``.

    Returns:
        The :class:`Engine`.

    Raises:
        GraphvizError: when neither is installed.

    Example:
        >>> find_engine().name in ("dot", "graphviz-pure")
        True
    """
    dot = shutil.which("dot")
    if dot:
        return Engine(dot, "dot")
    for place in _pure_candidates():
        if place.is_file() and os.access(place, os.X_OK):
            return Engine(str(place), _PURE)
    raise GraphvizError(
        "No Graphviz engine found: run `pip install graphviz-pure` or install Graphviz "
        "(e.g. `apt-get install graphviz`, `conda install graphviz`)."
    )


def _source(digraph: graphviz.Digraph | graphviz.Source | str) -> str:
    if isinstance(digraph, str):
        return digraph
    source = getattr(digraph, "source", None)
    if not isinstance(source, str):
        raise GraphvizError(
            f"render needs a graphviz graph or DOT text, got {type(digraph).__name__}; pass "
            "e.g. nasbench.viz.draw_genotype(genotype)."
        )
    return source


def _run(engine: Engine, source: str, fmt: str, extra: tuple[str, ...] = ()) -> bytes:
    try:
        done = subprocess.run(
            [engine.path, f"-T{fmt}", *extra],
            input=source.encode("utf-8"),
            capture_output=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise GraphvizError(f"Graphviz engine {engine.path} could not run: {error}.") from error
    if done.returncode != 0 or not done.stdout:
        message = done.stderr.decode("utf-8", "replace").strip() or f"exit {done.returncode}"
        raise GraphvizError(f"Graphviz ({engine.name}) failed to draw {fmt}: {message}")
    return done.stdout


def _png_to_pdf(png: bytes, dpi: int) -> bytes:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        # PDF has no alpha channel: flatten onto white, as the drawing's background is white.
        page = Image.new("RGB", image.size, "white")
        rgba = image.convert("RGBA")
        page.paste(rgba, mask=rgba.getchannel("A"))
    out = io.BytesIO()
    page.save(out, format="PDF", resolution=float(dpi))
    return out.getvalue()


def render(
    digraph: graphviz.Digraph | graphviz.Source | str,
    format: str = "svg",
    engine: Engine | None = None,
) -> bytes:
    """Lay out and draw a graph.

    Args:
        digraph: a graphviz graph (or DOT source text).
        format: ``"svg"``, ``"png"`` or ``"pdf"``.
        engine: the executable to use; :func:`find_engine` when None.

    Returns:
        The drawing's bytes (SVG is UTF-8 XML).

    Raises:
        GraphvizError: for an unknown format, no engine, an engine failure, or a
            ``digraph`` that is no graph (None).

    Example:
        >>> import graphviz
        >>> g = graphviz.Digraph()
        >>> g.edge("a", "b")
        >>> render(g, "png")[:4]
        b'\\x89PNG'
    """
    fmt = format.lower().lstrip(".") if isinstance(format, str) else None
    if fmt not in FORMATS:
        raise GraphvizError(f"Unknown drawing format '{format}'; use one of {', '.join(FORMATS)}.")
    engine = engine or find_engine()
    source = _source(digraph)
    if fmt in engine.formats:
        return _run(engine, source, fmt)
    # Only PDF on graphviz-pure gets here.
    dpi = PDF_FALLBACK_DPI
    return _png_to_pdf(_run(engine, source, "png", (f"-Gdpi={dpi}",)), dpi)


def save(digraph: graphviz.Digraph | graphviz.Source | str, path: str | os.PathLike) -> Path:
    """Write a drawing to a file; the format comes from the suffix (.svg, .png, .pdf).

    The file appears whole or not at all (written to a temp file, then renamed).

    Args:
        digraph: a graphviz graph (or DOT source text).
        path: the target file.

    Returns:
        The path written.

    Raises:
        GraphvizError: for an unsupported suffix or a rendering failure.

    Example:
        >>> import graphviz, tempfile, pathlib
        >>> g = graphviz.Digraph(); g.edge("a", "b")
        >>> save(g, pathlib.Path(tempfile.mkdtemp()) / "g.svg").suffix
        '.svg'
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise GraphvizError(
            f"Cannot tell the format of '{path.name}': end the name with .svg, .png or .pdf."
        )
    data = render(digraph, fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def fit_to_width(svg: str) -> str:
    """``svg`` that keeps its natural size where it fits and shrinks, in proportion, to the
    width it is shown in where it does not (its viewBox keeps the drawing's proportions).

    Args:
        svg: an SVG document (graphviz writes a ``viewBox``).

    Returns:
        The same document, its root element styled ``max-width: 100%; height: auto``.

    Example:
        >>> fit_to_width('<svg width="900pt" viewBox="0 0 900 90"></svg>')
        '<svg style="max-width: 100%; height: auto" width="900pt" viewBox="0 0 900 90"></svg>'
    """
    return re.sub(r"<svg\b", '<svg style="max-width: 100%; height: auto"', svg, count=1)


class NasDigraph(graphviz.Digraph):
    """A ``graphviz.Digraph`` that draws through :func:`render`.

    Jupyter shows it inline (``_repr_mimebundle_`` calls ``pipe``), ``pipe`` returns its bytes and
    ``render(outfile=...)`` saves it, all with graphviz-pure when there is no system Graphviz.
    Everything else (``source``, ``node``, ``edge``, ``subgraph``) is the plain Digraph.

    Example:
        >>> g = NasDigraph()
        >>> g.edge("a", "b")
        >>> g.pipe(format="svg", encoding="utf-8").lstrip().startswith("<?xml")
        True
    """

    def pipe(  # type: ignore[override]
        self,
        format: str | None = None,
        renderer: str | None = None,
        formatter: str | None = None,
        neato_no_op: bool | int | None = None,
        quiet: bool = False,
        *,
        engine: str | None = None,
        encoding: str | None = None,
    ) -> bytes | str:
        """Return the drawing as bytes (or text when ``encoding`` is given).

        Args:
            format: ``"svg"``, ``"png"`` or ``"pdf"``; the graph's ``format`` when None.
            renderer: unused (kept for graphviz's signature).
            formatter: unused.
            neato_no_op: unused.
            quiet: unused.
            engine: unused; layouts always use ``dot``.
            encoding: decode the bytes with this codec.

        Returns:
            The drawing.
        """
        data = render(self, format or self.format or "svg")
        return data.decode(encoding) if encoding is not None else data

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None, **kwargs: Any
    ) -> dict[str, Any]:
        """graphviz's inline output, with an SVG that shrinks to the notebook's width: at
        its natural size a two-cell genotype (2,000 px) ran past the output area, its
        reduction cell out of sight.

        The SVG is also given as ``text/html``, which JupyterLab prefers: it shows an
        ``image/svg+xml`` output as an ``<img>``, which its style sheet leaves at the
        drawing's natural width (its ``max-width`` rule is for inline SVG), while the same
        SVG inline in HTML shrinks.

        Args:
            include: mimetypes to return (graphviz's meaning).
            exclude: mimetypes to leave out.
            **kwargs: passed on to graphviz.

        Returns:
            The mimebundle.
        """
        # Read twice below (graphviz's and ours): an iterator would be used up by the first.
        include = None if include is None else set(include)
        exclude = None if exclude is None else set(exclude)
        bundle = super()._repr_mimebundle_(include, exclude, **kwargs)
        svg = bundle.get("image/svg+xml")
        if isinstance(svg, str) and "<svg" in svg:
            svg = bundle["image/svg+xml"] = fit_to_width(svg)
            wanted = include is None or "text/html" in include
            if wanted and not (exclude and "text/html" in exclude):
                bundle["text/html"] = svg[svg.find("<svg") :]  # no XML prologue inside HTML
        return bundle

    def render(  # type: ignore[override]
        self,
        filename: str | os.PathLike | None = None,
        directory: str | os.PathLike | None = None,
        view: bool = False,
        cleanup: bool = False,
        format: str | None = None,
        *args: object,
        outfile: str | os.PathLike | None = None,
        **kwargs: object,
    ) -> str:
        """Save the drawing like ``graphviz.Digraph.render`` does, through :func:`save`.

        Only the drawing is written (no ``.gv`` source file); ``view`` is not supported.

        Args:
            filename: base name; the format's suffix is appended (``"cell"`` -> ``cell.svg``).
            directory: folder for ``filename``.
            view: must be False.
            cleanup: unused (no source file is written).
            format: ``"svg"``, ``"png"`` or ``"pdf"``; the graph's ``format`` when None.
            *args: ignored graphviz arguments.
            outfile: full target path; its suffix gives the format.
            **kwargs: ignored graphviz arguments.

        Returns:
            The path written.
        """
        if view:
            raise GraphvizError("NasDigraph.render(view=True) is not supported; open the file.")
        if outfile is None:
            fmt = format or self.format or "svg"
            base = Path(directory or "") / (filename or self.name or "drawing")
            outfile = base.with_name(f"{base.name}.{fmt}")
        return str(save(self, outfile))
