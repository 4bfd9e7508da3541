"""Operating a region's release: plugins, rollout status, consumer lag and topics.

``kleroterion ops ...`` (``kleroterion/ops/commands.py``). The Kubernetes side uses the
``kubernetes`` client against the release's objects (found by the chart's
``app.kubernetes.io/instance`` label); the Kafka side uses kafka-python's admin client.
"""
