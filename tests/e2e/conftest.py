"""One cluster for the end-to-end and fault tests: the four services as separate
``kleroterion serve`` processes on the real Kafka broker, each with its own PostgreSQL
database (demos/cluster.py). Each test drives its own assembly, so they share the
processes (starting four Python processes costs more than every check together)."""
from __future__ import annotations

import pytest

from demos import distributed as dd


@pytest.fixture(scope="session")
def cluster(kafka_bootstrap, postgres_url, tmp_path_factory):
    c = dd.cluster_for(kafka_bootstrap, postgres_url, tmp_path_factory.mktemp("cluster"))
    try:
        c.start()
    except Exception:
        c.stop_all()
        raise
    yield c
    c.stop_all()


@pytest.fixture(scope="session")
def drawn(cluster):
    """A small assembly taken from the extract to the panel seated in every service."""
    return dd.run(cluster, population=400, invitations=80, seed="e2e-seed")
