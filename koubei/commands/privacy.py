"""`koubei forget` and the `koubei keys` group (show / rotate): erasure on request and the author key."""

from __future__ import annotations

import typer

from koubei.errors import KoubeiError

app = typer.Typer()
keys = typer.Typer(name="keys", help="The author key: where it is, and rotating it.", no_args_is_help=True)


@app.command("forget")
def forget_command(
    ctx: typer.Context,
    author: str | None = typer.Option(None, "--author", help="An author's name as the site shows it, or its hash."),
    mention: str | None = typer.Option(None, "--mention", help="One mention, as SOURCE:ID."),
    text_contains: str | None = typer.Option(
        None, "--text-contains", help="A phone number or e-mail address (any spacing or case) in the text."
    ),
    by: str | None = typer.Option(None, "--by", help="Who asked for the erasure, for the audit log (default: you)."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Only say how many mentions would go and which files would be deleted."
    ),
) -> None:
    """Erase a person's mentions and everything derived from them, for good (audited)."""
    chosen = [
        (kind, value) for kind, value in (("author", author), ("mention", mention), ("text", text_contains)) if value
    ]
    if len(chosen) != 1:
        raise typer.BadParameter("give exactly one of --author, --mention, --text-contains")
    from storage.audit import default_actor, origin_of
    from storage.forget import Selector, SelectorError, forget, would_erase
    from storage.lake_maintenance import compact_for_good

    selector = Selector(*chosen[0])
    try:
        if dry_run:
            with ctx.obj.open_store() as store:
                mentions, files = would_erase(store, selector)
            typer.echo(f"{mentions} mentions would be erased and {len(files)} files deleted (nothing was changed)")
            for would_go in files:
                typer.echo(f"would delete {would_go}")
            return
        erased = forget(ctx.obj.open_store, selector, by or default_actor(), origin_of("koubei forget"))
    except SelectorError as exc:
        raise KoubeiError(str(exc)) from None
    compact_for_good(ctx.obj.settings.location)  # the file, or the lake's files
    typer.echo(
        f"erased {erased.mentions} mentions with their scores, aspects, triage, flags and labels"
        f" ({erased.labels} more labelled texts), their quotes in {erased.payloads} alert payloads and"
        f" {len(erased.files)} report or export files that may have quoted them;"
        " they will not be stored again, the erasure is in the audit log and the database file was rewritten"
    )
    for gone in erased.files:
        typer.echo(f"deleted {gone}")


@keys.command("show")
def keys_show(ctx: typer.Context) -> None:
    """Where the author key ring is and which keys made this database's hashes (never the keys)."""
    from storage.keys import key_source, ring

    with ctx.obj.open_store() as store:
        chain = store.author_chain
    typer.echo(f"key ring: {key_source()}")
    typer.echo(f"keys in the ring: {len(ring())}")
    typer.echo(f"this database: {len(chain.keys)} generation(s), {' -> '.join(chain.fingerprints)}")


@keys.command("rotate")
def keys_rotate(
    ctx: typer.Context,
    by: str | None = typer.Option(None, "--by", help="Who rotated, for the audit log (default: you)."),
) -> None:
    """Re-key every stored author hash with a new key (names are never stored, so they are not re-hashed)."""
    from storage.audit import default_actor, origin_of
    from storage.keys import rotate

    generation = rotate(ctx.obj.settings.location, by or default_actor(), origin_of("koubei keys rotate"))
    typer.echo(
        f"author hashes re-keyed: generation {generation}. An earlier key alone no longer reverses any;"
        " keep the whole key ring secret (and backed up apart from the database)"
    )
