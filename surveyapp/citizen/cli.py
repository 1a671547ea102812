"""Commands for IT officers: list service points, write QR codes, posters and dossier links."""
from __future__ import annotations

import json
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from ..extensions import db
from ..models import Organisation, ServicePoint, subtree_filter
from ..qr import PAPERS, issue_dossier_token, posters_pdf, public_url, qr_png, qr_svg, render_posters


def _points(org_code: str | None) -> list[ServicePoint]:
    stmt = sa.select(ServicePoint).join(Organisation).order_by(Organisation.path, ServicePoint.name)
    if org_code:
        org = db.session.scalar(sa.select(Organisation).where(Organisation.code == org_code))
        if org is None:
            raise click.BadParameter(f"no organisation with code {org_code!r}", param_hint="--org")
        stmt = stmt.where(subtree_filter(ServicePoint.organisation_id, org))
    return list(db.session.scalars(stmt))


def _require_base_url() -> None:
    """Outside a request the public URL cannot be guessed from the request's host."""
    if not current_app.config["PUBLIC_BASE_URL"]:
        raise click.ClickException("set PUBLIC_BASE_URL (e.g. https://khaosat.example.gov.vn): QR codes need it")


def _point(code: str) -> ServicePoint:
    _require_base_url()
    sp = db.session.scalar(sa.select(ServicePoint).where(ServicePoint.code == code))
    if sp is None:
        raise click.BadParameter(f"no service point with code {code!r}", param_hint="CODE")
    return sp


@click.command("service-points")
@click.option("--org", "org_code", help="Only this organisation and its subtree.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "url"]), default="table", show_default=True,
              help="url: one public URL a line (for scripts).")
@with_appcontext
def service_points(org_code: str | None, fmt: str) -> None:
    """List service points: code, name, organisation and public survey URL."""
    points = _points(org_code)
    base = None
    if not current_app.config["PUBLIC_BASE_URL"]:
        # A local demo has no public address yet: list the development server's URLs, say so.
        base = "http://127.0.0.1:5000"
        click.echo(f"PUBLIC_BASE_URL is not set; URLs below use {base}", err=True)
    with current_app.test_request_context(base_url=base or "http://localhost"):
        rows = [{"code": sp.code, "name": sp.name, "organisation": sp.organisation.code,
                 "organisation_name": sp.organisation.name, "active": sp.active, "url": public_url(sp)}
                for sp in points]
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    elif fmt == "url":
        for r in rows:
            if r["active"]:
                click.echo(r["url"])
    else:
        headers = ("code", "name", "organisation", "url")
        widths = [max([len(h)] + [len(str(r[h])) for r in rows]) for h in headers]
        click.echo("  ".join(h.upper().ljust(w) for h, w in zip(headers, widths)))
        for r in rows:
            line = "  ".join(str(r[h]).ljust(w) for h, w in zip(headers, widths))
            click.echo(line + ("" if r["active"] else "  (inactive)"))


@click.command("qr")
@click.argument("code")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="FILE.png or FILE.svg")
@click.option("--box-size", default=10, show_default=True, help="PNG pixels per module.")
@with_appcontext
def qr(code: str, out: Path, box_size: int) -> None:
    """Write the QR code of a service point's survey URL."""
    sp = _point(code)
    url = public_url(sp)
    suffix = out.suffix.lower()
    if suffix == ".png":
        out.write_bytes(qr_png(url, box_size=box_size))
    elif suffix == ".svg":
        out.write_text(qr_svg(url), encoding="utf-8")
    else:
        raise click.BadParameter("the file must end in .png or .svg", param_hint="--out")
    click.echo(f"{out}: {url}")


@click.command("posters")
@click.option("--org", "org_code", help="All active service points of this organisation and its subtree.")
@click.option("--code", "codes", multiple=True, help="A service point code (repeatable).")
@click.option("--paper", type=click.Choice(PAPERS), default="A4", show_default=True)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="FILE.html (the print view), or FILE.pdf (one document, an A4 page per poster).")
@with_appcontext
def posters(org_code: str | None, codes: tuple[str, ...], paper: str, out: Path) -> None:
    """Write the posters (one a page): FILE.pdf is one document to print, A4; FILE.html the print view."""
    _require_base_url()
    points = [_point(c) for c in codes] if codes else [sp for sp in _points(org_code) if sp.active]
    if not points:
        raise click.ClickException("no service point selected")
    if out.suffix.lower() == ".pdf":
        if paper != "A4":
            raise click.BadParameter("the PDF is A4", param_hint="--paper")
        with current_app.test_request_context(query_string={"lang": "vi"}):
            out.write_bytes(posters_pdf(points))
    else:
        out.write_text(render_posters(points, paper), encoding="utf-8")
    click.echo(f"{out}: {len(points)} poster(s), {paper}")


@click.command("dossier-tokens")
@click.argument("code")
@click.argument("dossiers", nargs=-1)
@click.option("--file", "infile", type=click.File("r", encoding="utf-8"),
              help="Read dossier numbers from a file, one a line ('-' for standard input).")
@click.option("--format", "fmt", type=click.Choice(["tsv", "json"]), default="tsv", show_default=True)
@with_appcontext
def dossier_tokens(code: str, dossiers: tuple[str, ...], infile, fmt: str) -> None:
    """Print single-use receipt links (dossier<TAB>url) for dossier numbers at a service point."""
    sp = _point(code)
    numbers = list(dossiers) + ([line.strip() for line in infile if line.strip()] if infile else [])
    if not numbers:
        raise click.UsageError("give dossier numbers as arguments or with --file")
    rows = [{"dossier": d, "url": public_url(sp, issue_dossier_token(sp, d))} for d in numbers]
    if fmt == "json":
        click.echo(json.dumps({"tokens": rows}, ensure_ascii=False, indent=2))
    else:
        for r in rows:
            click.echo(f"{r['dossier']}\t{r['url']}")


commands = [service_points, qr, posters, dossier_tokens]
