"""`flask tokens create|list|revoke`: API tokens (only their SHA-256 is stored)."""
import click
from flask.cli import AppGroup

from cli import context
from services.principal import ROLES

tokens_group = AppGroup("tokens", help="API 令牌 / API tokens (stored only as hashes)")


@tokens_group.command("create")
@click.option("--role", required=True, type=click.Choice(ROLES), help="角色 / role")
@click.option("--name", required=True, help="令牌持有者，如“凤凰县商务局” / who holds the token")
@click.option("--county", help="商务局令牌的 12 位县代码 / county code for a bureau token")
@click.option("--enterprise", help="企业令牌的统一社会信用代码 / credit code for an enterprise token")
def create_command(role, name, county, enterprise):
    """创建令牌 / Create a token.

    The token is printed once (last line); only its hash is kept.
    """
    from services.errors import ServiceError
    from services.tokens import issue_token

    try:
        secret = issue_token(context.service_context(), role, name, county_code=county, credit_code=enterprise)
    except (ValueError, ServiceError) as error:
        raise click.UsageError(str(error)) from None
    click.echo("令牌只显示这一次，请妥善保存 / the token is shown only once:", err=True)
    click.echo(secret)


@tokens_group.command("list")
def list_command():
    """列出令牌 / List tokens.

    Id, role, scope, name, created, revoked — never the secrets.
    """
    from services.tokens import list_tokens

    for token in list_tokens(context.service_context()):
        scope = token.get("county_code") or token.get("credit_code") or "-"
        click.echo(f"{token['token_id']}  {token['role']:<10} {scope:<20} {token.get('name', '')}  "
                   f"{token.get('created_at', '')}  {'已吊销 revoked' if token.get('revoked_at') else ''}")


@tokens_group.command("revoke")
@click.argument("token_id")
def revoke_command(token_id):
    """吊销令牌 / Revoke a token by its id."""
    from services.tokens import revoke_token

    if not revoke_token(context.service_context(), token_id):
        raise click.UsageError(f"没有该令牌 / no such token: {token_id}")
    click.echo(f"已吊销 / revoked: {token_id}")
