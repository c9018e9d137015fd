"""`flask neo4j backup [--out FILE]` and `flask neo4j restore FILE [--force]`: the local Neo4j and its keys.

A backup is one .tar.gz (mode 0600: it holds personal data and the keys):

    manifest.json      format, time, Neo4j version and edition, database, node and relationship counts
                       (in total, by label, by type), the dump's size and SHA-256, the key files' SHA-256
    neo4j.dump         `neo4j-admin database dump` of the stopped database (graph/server.py)
    secrets/…          every key file of var/secrets (ID-number hash key, session, pseudonym and analyst keys)

The database must be stopped to be dumped (Community edition): a backup stops the local Neo4j, dumps
it and starts it again if it ran, so the service answers 503 for those seconds. A restore loads the
dump into the local instance — refused when that already holds data, unless --force — puts the keys
back in var/secrets (0700, files 0600), starts Neo4j and checks the counts against the manifest.
With NEO4J_URI (a Neo4j that is not ours to stop) both refuse and say what to use instead.
"""
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import click
from flask.cli import with_appcontext

from cli import context
from core.settings import Settings
from graph import server
from graph.db import create_driver

FORMAT = "lianjie-backup/1"
MANIFEST, SECRETS = "manifest.json", "secrets"
REMOTE_REFUSAL = (
    "备份与恢复只作用于本机 Neo4j（未设置 NEO4J_URI 时）。外部 Neo4j 请在其服务器上用 neo4j-admin："
    "社区版停库后 `neo4j-admin database dump neo4j --to-path=DIR` / `neo4j-admin database load neo4j "
    "--from-path=DIR --overwrite-destination=true`，企业版可在线 `neo4j-admin database backup`；Aura 用控制台的"
    "快照（snapshot）。var/secrets 中的密钥请另行备份，恢复时放回原处。\n"
    "Backup and restore work on the local Neo4j only (NEO4J_URI unset). For the Neo4j at NEO4J_URI, use "
    "neo4j-admin on its server (Community: stop the database, then `database dump` / `database load`; "
    "Enterprise: online `database backup`), or snapshots on Aura; back up var/secrets yourself and put it "
    "back when you restore."
)


class BackupError(RuntimeError):
    """A backup or restore that cannot be done (the message says why and what to do)."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _secret_files(settings: Settings) -> list[Path]:
    """The key files of var/secrets (not the half-written temporaries a starting process may leave)."""
    folder = Path(settings.var_dir) / SECRETS
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.iterdir() if path.is_file() and not path.name.startswith("."))


def _configured_keys(settings: Settings) -> list[str]:
    """Keys set in the environment (or .env) rather than kept in var/secrets: not in any backup."""
    return sorted(field.upper() for field in ("id_hash_key", "secret_key", "pseudonym_key",
                                                          "analyst_pseudonym_key")
                  if getattr(settings, field, None))


def _database(settings: Settings) -> str:
    return settings.neo4j_database or server.DEFAULT_DATABASE


def _counts(settings: Settings) -> dict:
    with create_driver(settings) as driver:
        return server.database_counts(driver, settings.neo4j_database)


def _comparable(counts: dict) -> dict:
    return {key: counts[key] for key in ("nodes", "relationships", "labels", "relationship_types")}


def _private_file(path: Path):
    """Open path for writing, readable by the owner only whatever the umask."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    return os.fdopen(descriptor, "wb")


def default_backup_path(settings: Settings) -> Path:
    return Path(settings.var_dir) / "backups" / f"lianjie-{datetime.now():%Y%m%d-%H%M%S}.tar.gz"


def create_backup(settings: Settings, out: Path | None = None, echo=print) -> Path:
    """Dump the local Neo4j and archive it with var/secrets and a manifest; returns the archive's path."""
    if not settings.uses_local_neo4j:
        raise BackupError(REMOTE_REFUSAL)
    instance = server.LocalInstance.from_settings(settings)
    out = Path(out) if out else default_backup_path(settings)
    out = out.resolve()
    was_running = server.status(instance) is not None
    server.start(instance)  # the counts come from the running server (reused when it runs)
    counts = _counts(settings)
    with create_driver(settings) as driver:
        jobs = server.running_jobs(driver, settings.neo4j_database)
    if jobs:
        echo(f"注意：{jobs} 个后台任务正在运行，停库期间中断的任务会被重新执行 / "
             f"{jobs} background job(s) running; interrupted ones are run again afterwards")
    started = datetime.now(timezone.utc)
    server.stop(instance)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".backup-", dir=out.parent) as work:
            dump = server.dump_database(instance, Path(work), _database(settings))
            if was_running:  # back in service before the archive is written
                server.start(instance)
                was_running = False
            secrets = _secret_files(settings)
            manifest = {
                "format": FORMAT,
                "created_at": started.isoformat(),
                "neo4j": {"version": counts["neo4j_version"], "edition": counts["neo4j_edition"]},
                "database": _database(settings),
                "counts": _comparable(counts),
                "dump": {"file": dump.name, "bytes": dump.stat().st_size, "sha256": _sha256(dump)},
                "secrets": [{"file": path.name, "sha256": _sha256(path)} for path in secrets],
                # A key given in the environment is not in var/secrets: whoever restores must set it again.
                "keys_from_environment": _configured_keys(settings),
                "source": {"home": str(instance.home), "port": instance.port},
            }
            partial = out.with_name(f".{out.name}.partial")
            with _private_file(partial) as stream, tarfile.open(fileobj=stream, mode="w:gz") as archive:
                text = json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8")
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mode, info.mtime = len(text), 0o600, int(started.timestamp())
                archive.addfile(info, io.BytesIO(text))
                archive.add(dump, arcname=dump.name, filter=_owner_only)
                for path in secrets:
                    archive.add(path, arcname=f"{SECRETS}/{path.name}", filter=_owner_only)
            partial.replace(out)
    finally:
        if was_running:
            server.start(instance)
    echo(f"备份已写入 / backup written: {out} ({out.stat().st_size / 1e6:.1f} MB; "
         f"{counts['nodes']} nodes, {counts['relationships']} relationships, {len(secrets)} key files)")
    return out


def _owner_only(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
    return info


def read_manifest(archive_path: Path) -> dict:
    """The manifest of a backup (BackupError when the file is not one)."""
    try:
        with tarfile.open(archive_path, mode="r:gz") as archive:
            stream = archive.extractfile(MANIFEST)
            manifest = json.load(stream)
    except (OSError, tarfile.TarError, KeyError, ValueError) as error:
        raise BackupError(f"不是联结的备份文件 / not a Lianjie backup: {archive_path} ({error})") from error
    if manifest.get("format") != FORMAT:
        raise BackupError(f"备份格式不支持 / unsupported backup format: {manifest.get('format')}")
    return manifest


def _unpack(archive_path: Path, manifest: dict, into: Path) -> tuple[Path, list[Path]]:
    """Extract the dump and the key files named by the manifest (nothing else), checking their SHA-256."""
    wanted = {manifest["dump"]["file"]: manifest["dump"]["sha256"]}
    wanted.update({f"{SECRETS}/{item['file']}": item["sha256"] for item in manifest["secrets"]})
    for name in wanted:  # names come from the archive: a name with a path in it is not ours
        if Path(name).is_absolute() or ".." in Path(name).parts or name.count("/") > 1:
            raise BackupError(f"备份中的文件名无效 / bad name in backup: {name}")
    with tarfile.open(archive_path, mode="r:gz") as archive:
        for member in archive.getmembers():
            if member.name not in wanted:
                continue
            if not member.isfile():
                raise BackupError(f"备份中的 {member.name} 不是普通文件 / not a regular file")
            target = into / member.name
            with archive.extractfile(member) as source, _private_file(target) as sink:
                shutil.copyfileobj(source, sink)
    for name, digest in wanted.items():
        if not (into / name).is_file() or _sha256(into / name) != digest:
            raise BackupError(f"备份已损坏 / backup damaged: {name} missing or its SHA-256 differs")
    return into / manifest["dump"]["file"], [into / name for name in wanted if name.startswith(f"{SECRETS}/")]


def _replace_secrets(settings: Settings, files: list[Path]) -> None:
    """var/secrets becomes exactly the backup's key files (folder 0700, files 0600), swapped in whole."""
    folder = Path(settings.var_dir) / SECRETS
    folder.parent.mkdir(parents=True, exist_ok=True)
    incoming = Path(tempfile.mkdtemp(prefix=".secrets-restore-", dir=folder.parent))
    os.chmod(incoming, 0o700)
    for path in files:
        with open(path, "rb") as source, _private_file(incoming / path.name) as sink:
            shutil.copyfileobj(source, sink)
    if folder.exists():
        outgoing = folder.with_name(f".secrets-replaced-{os.getpid()}")
        folder.replace(outgoing)
        incoming.replace(folder)
        shutil.rmtree(outgoing)
    else:
        incoming.replace(folder)


def restore_backup(settings: Settings, archive_path: Path, force: bool = False, echo=print) -> dict:
    """Load a backup into the local Neo4j (empty, or replaced with force) and put its keys back; returns its manifest."""
    if not settings.uses_local_neo4j:
        raise BackupError(REMOTE_REFUSAL)
    archive_path = Path(archive_path).resolve()
    manifest = read_manifest(archive_path)
    database = manifest["database"]
    if database != _database(settings):
        raise BackupError(f"备份的数据库是 {database}，当前设置为 {_database(settings)} / database name differs")
    instance = server.LocalInstance.from_settings(settings)
    was_running = server.status(instance) is not None
    if was_running or server.store_exists(instance, database):
        server.start(instance)
        nodes = _counts(settings)["nodes"]
        if nodes and not force:
            if not was_running:
                server.stop(instance)
            raise BackupError(
                f"目标 Neo4j（{instance.home}）已有 {nodes} 个节点；确认要用备份替换它时加 --force（make restore … FORCE=1）/ "
                f"the target already holds {nodes} nodes; add --force to replace them")
    Path(settings.var_dir).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".restore-", dir=settings.var_dir) as work:
        dump, secrets = _unpack(archive_path, manifest, Path(work))
        server.stop(instance)
        output = server.load_database(instance, dump.parent, database)
        _replace_secrets(settings, secrets)
    server.start(instance)
    restored = _counts(settings)
    if _comparable(restored) != manifest["counts"]:
        raise BackupError(f"恢复后的计数与备份清单不符 / counts differ after restore: {_comparable(restored)} "
                          f"vs {manifest['counts']}\n{output[-2000:]}")
    if not was_running:
        server.stop(instance)
    echo(f"已恢复 / restored {archive_path.name} (made {manifest['created_at']}): {restored['nodes']} nodes, "
         f"{restored['relationships']} relationships, {len(secrets)} key files in {Path(settings.var_dir) / SECRETS}")
    if manifest.get("keys_from_environment"):
        echo(f"注意：备份时这些密钥来自环境变量，不在备份里，请设置同样的值 / set these as when backed up: "
             f"{', '.join(manifest['keys_from_environment'])}")
    echo("正在运行的服务请重启以读取恢复的密钥 / restart a running service (make stop; make run) to use the restored keys")
    return manifest


@click.command("backup")
@with_appcontext
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="备份文件，默认 var/backups/lianjie-时间.tar.gz / the archive (default under var/backups)")
def backup_command(out):
    """备份本机 Neo4j 与密钥 / Back up the local Neo4j and var/secrets.

    Stops the local Neo4j for `neo4j-admin database dump` (Community edition needs it stopped) and starts
    it again; writes one .tar.gz (mode 0600) with the dump, the key files and a manifest.
    """
    try:
        create_backup(context.settings(), out, echo=click.echo)
    except (BackupError, server.ServerError) as error:
        click.echo(str(error), err=True)
        sys.exit(1)


@click.command("restore")
@with_appcontext
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="替换已有数据 / replace a graph that holds data")
def restore_command(archive, force):
    """从备份恢复 / Restore the local Neo4j and var/secrets from a backup.

    Loads the dump into the local instance (refused when it holds data, unless --force), puts the key
    files back in var/secrets and checks the counts against the backup's manifest.
    """
    try:
        restore_backup(context.settings(), archive, force=force, echo=click.echo)
    except (BackupError, server.ServerError) as error:
        click.echo(str(error), err=True)
        sys.exit(1)
