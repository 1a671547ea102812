"""``flask comments themes FILE``: the classifier on a file of comments, one per line."""
from __future__ import annotations

import json

import click

from .classify import classify_many


@click.group("comments")
def comments_group() -> None:
    """Free-text comments: themes, polarity, flags."""


@comments_group.command("themes")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--format", "fmt", type=click.Choice(["json", "text"]), default="json", show_default=True,
              help="json: one object per line with themes, polarity and flags; text: tab-separated.")
def themes_command(file, fmt: str) -> None:
    """Classify FILE (one comment per line; - for standard input). Runs offline."""
    lines = [line.rstrip("\r\n") for line in file]
    for result in classify_many(lines):
        if fmt == "json":
            click.echo(json.dumps(result.as_dict(), ensure_ascii=False))
        else:
            click.echo("\t".join([",".join(result.themes), result.polarity, ",".join(result.flags)]))


commands = [comments_group]
