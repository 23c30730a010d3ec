"""The pods Strimzi will build from our resources (tests/deploy/strimzi_pods.py models its code):
brokers that can write their volumes on block storage."""

from __future__ import annotations

import pytest

from tests.deploy import support
from tests.deploy.strimzi_pods import pod_security_context
from tests.deploy.support import of_kind

OVERLAYS = [str(path.relative_to(support.K8S)) for path in support.overlays()]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_brokers_with_persistent_volumes_keep_fs_group_0(rendered, overlay):
    """A new block-storage volume (EBS, PD, Azure Disk) has a root-owned 0755 root; the broker runs
    as uid 1001, gid 0, and writes there only through fsGroup 0, which a template replaces."""
    (kafka,) = of_kind(rendered[overlay], "Kafka")
    for pool in of_kind(rendered[overlay], "KafkaNodePool"):
        assert pod_security_context(pool, kafka).get("fsGroup") == 0, pool["metadata"]["name"]


def test_the_model_sees_a_template_replace_strimzis_fs_group():
    kafka = {"spec": {"kafka": {}}}
    pool = {"spec": {"storage": {"type": "jbod", "volumes": [{"type": "persistent-claim"}]}}}
    assert pod_security_context(pool, kafka) == {"fsGroup": 0}
    pool["spec"]["template"] = {"pod": {"securityContext": {"runAsNonRoot": True}}}
    assert "fsGroup" not in pod_security_context(pool, kafka)
