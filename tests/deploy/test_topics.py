"""The declared Kafka topics: every contract's topic and each service's dead-letter topic, created by the script."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType
from territory_shared.events.contracts import topics

from tests.deploy.manifests import ROOT, SERVICES, declared_topics

KAFKA = os.environ.get("TEST_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
KAFKA_LIBS = Path(os.environ.get("KAFKA_HOME_DIR", Path.home() / ".cache" / "territory" / "kafka")) / "libs"


def test_declared_topics_are_the_event_topics_and_the_dead_letter_topics() -> None:
    declared = declared_topics()
    assert set(declared) == {*topics(), *(f"{s.package}.dead-letter" for s in SERVICES.values())}


def test_event_topics_keep_every_event_for_replay_and_are_never_compacted() -> None:
    for name, (partitions, configs) in declared_topics().items():
        assert configs["cleanup.policy"] == "delete", name
        if name.endswith(".dead-letter"):
            assert int(configs["retention.ms"]) > 0
        else:
            assert configs["retention.ms"] == "-1" and partitions >= 3, name


@pytest.mark.kafka
def test_create_topics_script_creates_then_updates_topics_idempotently(tmp_path: Path) -> None:
    # The script runs in the apache/kafka image; here its two tools run from the jars scripts/infra fetched.
    assert KAFKA_LIBS.is_dir(), f"{KAFKA_LIBS} missing: make infra-up"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool, main in (
        ("kafka-topics.sh", "org.apache.kafka.tools.TopicCommand"),
        ("kafka-configs.sh", "kafka.admin.ConfigCommand"),
    ):
        (bin_dir / tool).write_text(f'#!/bin/sh\nexec java -cp "{KAFKA_LIBS}/*" {main} "$@"\n')
        (bin_dir / tool).chmod(0o755)
    conf = tmp_path / "topics.conf"
    conf.write_text(
        "# two of the declared lines\ngeo.territory 6 retention.ms=-1,cleanup.policy=delete\n"
        "metrics-service.dead-letter 1 retention.ms=2592000000,cleanup.policy=delete\n"
    )
    prefix = f"deploy-{uuid.uuid4().hex[:8]}."
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "BOOTSTRAP_SERVERS": KAFKA,
        "KAFKA_TOPIC_PREFIX": prefix,
        "TOPICS_FILE": str(conf),
    }
    script = ROOT / "deploy" / "k8s" / "base" / "kafka" / "create-topics.sh"
    for _ in range(2):  # the second run finds them and changes nothing
        result = subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
    admin = KafkaAdminClient(bootstrap_servers=KAFKA)
    try:
        described = {t["name"]: len(t["partitions"]) for t in admin.describe_topics([f"{prefix}geo.territory"])}
        assert described == {f"{prefix}geo.territory": 6}
        configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, f"{prefix}geo.territory")])
        entries = configs["topic"][f"{prefix}geo.territory"]
        assert entries["retention.ms"]["value"] == "-1"
        assert entries["cleanup.policy"]["value"] == "delete"
        admin.delete_topics([f"{prefix}geo.territory", f"{prefix}metrics-service.dead-letter"])
    finally:
        admin.close()
