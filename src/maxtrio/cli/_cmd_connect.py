"""``max connect <SOURCE>`` — connect a data source to this workspace.

Runs the connector's onboarding flow, then creates the installation. Answers come from flags
(``--config``, ``--config-file``, ``--credential``, ``--credentials-from-env``) and, when a
person is at a terminal, from prompts (secrets without echo). With ``--no-input`` — implied
when stdin is not a terminal — nothing is asked: every value still missing is listed in one
error, with the flags that would supply it. A select step with a single option takes it.

Order (MAXTRIO): the connector and the installation name are checked before any prompt; the
validation steps run before anything is written; a failed validation writes nothing.
Credentials go to ``.max/installations/<name>/credentials.json`` (0600) and are never printed.
A name that is taken says how to change that installation or remove it.

``max connect <INSTALLATION> --update`` (MAXTRIO) changes an existing installation instead:
the same ``--config``/``--config-file``/``--credential``/``--credentials-from-env`` flags give
the new values, which are checked against the connector's declarations and verified as at
connect before anything is written (``maxtrio.federation.update_installation``); nothing is
asked. Level: workspace.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator, Mapping
from typing import Any

import asyncclick as click

from ._invocation import current_cwd, current_environ, resolve_path
from ._printers import dumps_pretty
from ._session import debug_option, output_option, session


def _split_pair(value: str, option: str) -> tuple[str, str]:
    key, sep, rest = value.partition("=")
    if not sep or not key.strip():
        raise click.BadParameter(f"expected KEY=VALUE, got {value!r}", param_hint=option)
    return key.strip(), rest


def read_option_file(path: str, option: str) -> str:
    """The text of the file an option names (relative to the caller's directory); a missing or
    unreadable file is a usage error of ``option``."""
    try:
        return resolve_path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise click.BadParameter(f"{path}: no such file", param_hint=option) from None
    except IsADirectoryError:
        raise click.BadParameter(f"{path}: is a directory", param_hint=option) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise click.BadParameter(f"{path}: {reason}", param_hint=option) from None


def config_answers(pairs: tuple[str, ...], config_file: str | None) -> dict[str, Any]:
    """``--config-file`` (a JSON object) overlaid with ``--config KEY=VALUE`` flags."""
    config: dict[str, Any] = {}
    if config_file is not None:
        text = read_option_file(config_file, "--config-file")
        try:
            loaded = json.loads(text)
        except ValueError as exc:
            raise click.BadParameter(
                f"{config_file}: not valid JSON ({exc})", param_hint="--config-file"
            ) from None
        if not isinstance(loaded, dict):
            raise click.BadParameter(
                f"{config_file}: expected a JSON object of config values",
                param_hint="--config-file",
            )
        config.update(loaded)
    for pair in pairs:
        key, value = _split_pair(pair, "--config")
        config[key] = value
    return config


def credential_answers(
    pairs: tuple[str, ...],
    env_prefix: str | None,
    names: list[str],
    environ: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """``--credentials-from-env PREFIX`` (``PREFIX`` + the name upper-cased) overlaid with
    ``--credential NAME=VALUE`` / ``NAME=@FILE`` flags."""
    env = current_environ() if environ is None else environ
    credentials: dict[str, str] = {}
    if env_prefix is not None:
        for name in names:
            value = env.get(f"{env_prefix}{name.upper()}")
            if value:
                credentials[name] = value
    for pair in pairs:
        name, value = _split_pair(pair, "--credential")
        if value.startswith("@"):
            value = read_option_file(value[1:], "--credential").strip()
        credentials[name] = value
    return credentials


def missing_inputs(
    flow: Any, config: Mapping[str, Any], credentials: Mapping[str, str]
) -> list[str]:
    """What the unconditional input steps of ``flow`` need and the flags do not give."""
    from maxtrio.connector import InputStep

    missing: list[str] = []
    for step in flow.steps:
        if not isinstance(step, InputStep) or step.when is not None:
            continue
        for key, field in step.fields.items():
            if key not in config and field.required and field.default is None:
                missing.append(f"--config {key}=<{field.label}>")
        for credential in step.credentials.values():
            if credential.name not in credentials:
                missing.append(f"--credential {credential.name}=<value>")
    return missing


@click.command(name="connect")
@click.argument("source", required=False, metavar="SOURCE")
@click.option("-n", "--name", help="Installation name (auto-generated if omitted).")
@click.option(
    "--config",
    "config_pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="A config value of the onboarding flow (repeatable), e.g. baseUrl=https://….",
)
@click.option(
    "--config-file",
    metavar="FILE",
    help="A JSON object of config values (--config flags win).",
)
@click.option(
    "--credential",
    "credential_pairs",
    multiple=True,
    metavar="NAME=VALUE|NAME=@FILE",
    help="A credential (repeatable); @FILE reads it from a file. Never printed.",
)
@click.option(
    "--credentials-from-env",
    "env_prefix",
    metavar="PREFIX",
    help="Read each credential from $PREFIX<NAME> (e.g. ACME_ → $ACME_API_TOKEN).",
)
@click.option(
    "--no-input",
    is_flag=True,
    help="Never prompt: fail with the list of missing values (implied when stdin is not a TTY).",
)
@click.option(
    "--update",
    is_flag=True,
    help="Change the existing installation SOURCE (or --name): new --config values, "
    "rotated --credential values; checked and verified before anything is written.",
)
@click.option(
    "--store",
    metavar="URL",
    help="Keep the installation's data in PostgreSQL (postgresql://user:pass@host:port/db; "
    "default $MAX_STORE_URL, else its own data.db). Kept like a credential, never printed.",
)
@click.option(
    "--remote",
    metavar="URL",
    help="Connect the installation of another machine's max serve "
    "(max+http://HOST:PORT/<ws>/<inst>; max:// for HTTPS) instead of a connector.",
)
@click.option(
    "--token-file",
    metavar="FILE",
    help="With --remote: the file holding the server's token (else $MAX_TOKEN).",
)
@output_option(("text", "json"))
@debug_option
async def connect_command(
    source: str | None,
    name: str | None,
    config_pairs: tuple[str, ...],
    config_file: str | None,
    credential_pairs: tuple[str, ...],
    env_prefix: str | None,
    no_input: bool,
    update: bool,
    store: str | None,
    remote: str | None,
    token_file: str | None,
    output: str,
) -> None:
    """Connect a new data source, or change one (--update), or a remote one (--remote).

    SOURCE is a connector name (acme is built in; max install adds more). The onboarding
    steps ask for what they need; flags answer them up front, and without a terminal every
    missing value is listed instead of asked.

    With --update, SOURCE is an installation of this workspace (e.g. acme-1): --config
    changes config values and --credential rotates credentials. Keys must be ones the
    connector declares; the connector's checks run again before anything is written, and
    credentials are never printed.

    \b
    Examples:
      max connect acme
      max connect acme --name acme-prod \\
          --config baseUrl=http://127.0.0.1:4567 --config workspaceId=ws-1 \\
          --credential api_token=@token.txt --no-input
      ACME_API_TOKEN=… max connect acme --credentials-from-env ACME_ --config baseUrl=…
      max connect acme-1 --update --credential api_token=@new-token.txt
      max connect acme-1 --update --config baseUrl=http://127.0.0.1:4568
      max connect acme --store postgresql://max:…@db.internal:5432/max
      max connect --remote max+http://10.0.0.5:7433/team/acme-1 --name team-acme \\
          --token-file team.token
    """
    from maxtrio.connector import OnboardingAnswers
    from maxtrio.federation import declared_credentials, default_store_url, store_url_label

    from ._prompter import NoInputPrompter, TerminalPrompter
    from ._targeting import open_target

    run = session()
    if remote is not None:
        from ._cmd_connect_remote import connect_remote

        await connect_remote(run, remote, name, token_file, output)
        return
    if source is None:
        raise click.UsageError("Missing argument 'SOURCE'.")
    config = config_answers(config_pairs, config_file)
    if update:
        flags = (credential_pairs, env_prefix)
        await _update_installation(run, name or source, config, flags, output)
        return
    interactive = not no_input and stdin_is_terminal()
    store = store or default_store_url(current_environ())
    if store is not None:
        store_url_label(store)  # a malformed URL stops here, before any prompt
    async with open_target(run.targeting) as target:
        workspace = target.require_workspace()
        entry = _connector_entry(workspace, source)
        installation_name = name
        if installation_name is not None:
            with _taken_hint(installation_name):
                await workspace.check_installation_name(source, installation_name)
        else:
            installation_name = await workspace.derive_installation_name(source)
        flow = workspace.connector_onboarding(source)
        module = workspace.connectors().resolve(entry.name)
        credentials = credential_answers(
            credential_pairs, env_prefix, declared_credentials(module.definition)
        )
        if not interactive:
            _fail_on_missing(source, missing_inputs(flow, config, credentials))
        prompter = TerminalPrompter() if interactive else NoInputPrompter()
        await prompter.write(f"Creating new installation: {installation_name} ...\n")
        with _input_hint():
            onboarded = await workspace.onboard(
                source,
                prompter=prompter,
                answers=OnboardingAnswers(config=config, credentials=credentials),
                cwd=current_cwd(),
            )
        with _taken_hint(installation_name):
            info = await workspace.create_installation(
                source,
                name=installation_name,
                config=onboarded.config,
                credentials=onboarded.credentials,
                store=store,
            )
    url = workspace.url.child(info.name)
    if output == "json":
        document = {
            "url": str(url),
            "id": info.id,
            "name": info.name,
            "connector": info.connector,
            "config": info.config,
        }
        if info.deployment.store is not None:
            document["store"] = info.deployment.store
        run.lines([dumps_pretty(document)])
        return
    run.lines(
        [
            f"Connected {source} as installation {info.name} ({info.id})",
            f"Next: max sync {info.name}",
        ]
    )


def stdin_is_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):
        return False


def _connector_entry(workspace: Any, source: str) -> Any:
    from maxtrio.connector import ErrConnectorNotFound

    try:
        return workspace.connector_entry(source)
    except Exception as exc:
        if ErrConnectorNotFound.matches(exc):
            names = ", ".join(e.name for e in workspace.connectors().list()) or "none"
            exc.data.setdefault(  # type: ignore[attr-defined]
                "hint", f"Available connectors: {names} (max install adds more)"
            )
        raise


async def _update_installation(
    run: Any,
    installation: str,
    config: dict[str, Any],
    credential_flags: tuple[tuple[str, ...], str | None],
    output: str,
) -> None:
    """``max connect INSTALLATION --update``: see the module docstring. ``credential_flags``
    (the ``--credential`` pairs and ``--credentials-from-env`` prefix) are read once the
    connector, and so its credential names, is known."""
    from maxtrio.federation import (
        ErrInstallationNotFound,
        declared_credentials,
        update_installation,
    )

    from ._targeting import open_target

    async with open_target(run.targeting) as target:
        workspace = target.require_workspace()
        info = await workspace.find_installation(installation)
        if info is None:
            raise ErrInstallationNotFound(
                installation=installation,
                hint="--update changes an installation of this workspace: give its name "
                "(max ls lists them), e.g. max connect acme-1 --update --config KEY=VALUE",
            )
        names = declared_credentials(workspace.connector_module(info.connector).definition)
        credentials = credential_answers(*credential_flags, names)
        done = await update_installation(
            workspace, installation, config=config, credentials=credentials, cwd=current_cwd()
        )
    updated = done.installation
    if output == "json":
        document = {
            "url": str(workspace.url.child(updated.name)),
            "id": updated.id,
            "name": updated.name,
            "connector": updated.connector,
            "config": updated.config,
            "updated": {
                "config": list(done.config_keys),
                "credentials": list(done.credential_names),
            },
        }
        run.lines([dumps_pretty(document)])
        return
    changes = [f"config {', '.join(done.config_keys)}"] if done.config_keys else []
    if done.credential_names:
        changes.append(f"credentials {', '.join(done.credential_names)} (rotated)")
    what = "; ".join(changes) or "nothing changed (the values were already these)"
    run.lines([f"Updated {updated.name} ({updated.connector}): {what}"])


@contextlib.contextmanager
def _taken_hint(name: str) -> Iterator[None]:
    """A name that is taken says what can be done with that installation."""
    from maxtrio.federation import ErrInstallationAlreadyExists

    try:
        yield
    except Exception as exc:
        if ErrInstallationAlreadyExists.matches(exc):
            exc.data.setdefault(  # type: ignore[attr-defined]
                "hint",
                f"change it with max connect {name} --update --config KEY=VALUE "
                f"(or --credential NAME=VALUE), remove it with max disconnect {name}, "
                "or choose another --name",
            )
        raise


@contextlib.contextmanager
def _input_hint() -> Iterator[None]:
    """Onboarding that stopped for a missing answer says which flag gives it."""
    from maxtrio.connector import ErrOnboardingInputMissing

    try:
        yield
    except Exception as exc:
        if ErrOnboardingInputMissing.matches(exc):
            exc.data.setdefault(  # type: ignore[attr-defined]
                "hint", "pass it with --config KEY=VALUE (or --credential NAME=VALUE)"
            )
        raise


def _fail_on_missing(source: str, missing: list[str]) -> None:
    if not missing:
        return
    from ._errors import ErrMissingInput

    raise ErrMissingInput(
        connector=source,
        missing=", ".join(missing),
        hint="pass the values with these flags, or run max connect in a terminal to be asked",
    )
