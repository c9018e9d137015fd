"""The app served as `make run` serves it, for tests: nginx (deploy/nginx.py, the same template) on a public
loopback port in front of gunicorn (gunicorn.conf.py, wsgi:app) on a private one, on the test Neo4j.

    from tests.support.proxy import deployed        # fixture: a Stack for the test module
    stack = start_stack(settings, folder, proxy=…)  # or by hand; stack.stop() ends both processes

Each process is a child of the test process (nginx with `daemon off`), stopped by the fixture.
"""
from pathlib import Path

import pytest

from core.settings import Settings
from deploy import nginx
from deploy import stack as deployment
from deploy.stack import Stack
from tests.support.network import free_port

READY_TIMEOUT_S = 90


def start_stack(settings: Settings, folder: Path, proxy: nginx.ProxyConfig | None = None, **env_overrides) -> Stack:
    """gunicorn on a free private port, nginx on a free public one, both ready (deploy/stack.py); `proxy`
    overrides the defaults of the rendered configuration (ports, home and logs are always the test's own)."""
    return deployment.start_stack(settings, folder, public=f"127.0.0.1:{free_port()}", upstream=f"127.0.0.1:{free_port()}",
                             proxy=proxy, ready_timeout_s=READY_TIMEOUT_S, **env_overrides)


@pytest.fixture(scope="module")
def deployed(neo4j_driver, test_settings, tmp_path_factory):
    """The app as `make run` serves it (nginx in front of gunicorn), on the test Neo4j, for one test module."""
    stack = start_stack(test_settings, tmp_path_factory.mktemp("stack"))
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def deployed_world(world, test_settings, tmp_path_factory):
    """The same stack on the `world` graph (two counties, tokens per role), with fast job polling."""
    stack = start_stack(test_settings, tmp_path_factory.mktemp("stack"), JOB_POLL_SECONDS=0.3, JOB_STALE_SECONDS=20)
    yield stack
    stack.stop()
