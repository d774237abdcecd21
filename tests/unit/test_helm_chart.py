"""The Helm chart (deploy/helm/marketflow), the one source of Kubernetes manifests: it
lints, renders with the default and the production values, every rendered object of a
built-in kind validates against Kubernetes 1.30's JSON schemas (offline, strict: unknown
fields fail), and the objects keep the policies the issue asked for. Custom resources
(Strimzi, CloudNativePG, KEDA, Prometheus Operator) are not in those schemas: their
apiVersion, kind, metadata and the fields the chart relies on are checked here.

Needs the `helm` binary: `make helm` builds it into .tools/bin (MARKETFLOW_HELM points
elsewhere). Without it these tests fail, they do not skip."""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from cryptography.fernet import Fernet

from contracts.topics import EXTERNAL_TYPES, SERVICES, UPSTREAM
from shared import kafka_access

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "marketflow"
PRODUCTION = CHART / "values-production.yaml"
KUBERNETES = "1.30.0"
HELM = Path(os.environ.get("MARKETFLOW_HELM", ROOT / ".tools" / "bin" / "helm"))
Objects = list[dict[str, Any]]
# Custom resources: apiVersion per kind, and the spec fields the chart relies on.
CUSTOM_RESOURCES = {
    "KafkaTopic": ("kafka.strimzi.io/v1beta2", ["topicName", "partitions", "replicas",
                                                "config"]),
    "KafkaUser": ("kafka.strimzi.io/v1beta2", ["authentication", "authorization"]),
    "Cluster": ("postgresql.cnpg.io/v1", ["instances", "bootstrap", "storage"]),
    "ScaledObject": ("keda.sh/v1alpha1", ["scaleTargetRef", "minReplicaCount",
                                          "maxReplicaCount", "triggers"]),
    "TriggerAuthentication": ("keda.sh/v1alpha1", ["secretTargetRef"]),
    "ServiceMonitor": ("monitoring.coreos.com/v1", ["selector", "endpoints"]),
}


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    if not os.access(HELM, os.X_OK):
        pytest.fail(f"no helm binary at {HELM}: run `make helm` (builds it from its Go "
                    "module with the machine's Go) or set MARKETFLOW_HELM")
    return subprocess.run([str(HELM), *args], capture_output=True, text=True, timeout=120,
                          check=False)


def render(*values: str) -> Objects:
    arguments = [f"--set={value}" if "=" in value else f"--values={value}" for value in values]
    result = helm("template", "mf", str(CHART), "--namespace", "marketflow",
                  "--kube-version", KUBERNETES, *arguments)
    assert result.returncode == 0, result.stderr
    return [document for document in yaml.safe_load_all(result.stdout) if document]


@pytest.fixture(scope="module")
def default() -> Objects:
    return render()


@pytest.fixture(scope="module")
def production() -> Objects:
    return render(str(PRODUCTION))


@pytest.fixture(scope="module")
def with_web() -> Objects:
    return render("services.web.enabled=true", "ingress.enabled=true",
                  "ingress.tlsSecret=web-tls")


def of_kind(objects: Objects, kind: str) -> Objects:
    return [o for o in objects if o["kind"] == kind]


def named(objects: Objects, kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in of_kind(objects, kind)}


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


@pytest.mark.parametrize("values", [[], ["--values", str(PRODUCTION)]],
                         ids=["default", "production"])
def test_the_chart_lints(values: list[str]) -> None:
    result = helm("lint", str(CHART), "--strict", *values)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("rendered", ["default", "production", "with_web"])
def test_every_object_is_valid(rendered: str, request: pytest.FixtureRequest) -> None:
    objects: Objects = request.getfixturevalue(rendered)
    for item in objects:
        name = f"{item['kind']} {item['metadata'].get('name')}"
        if item["kind"] in CUSTOM_RESOURCES:
            api_version, fields = CUSTOM_RESOURCES[item["kind"]]
            assert item["apiVersion"] == api_version, name
            assert item["metadata"]["name"] and item["metadata"]["labels"], name
            assert [f for f in fields if f not in item["spec"]] == [], name
            continue
        try:
            kubernetes_validate.validate(item, KUBERNETES, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{name}: {'.'.join(map(str, error.path))}: {error.message}")


@pytest.mark.parametrize("rendered", ["default", "production", "with_web"])
def test_every_container_is_locked_down_and_bounded(rendered: str,
                                                    request: pytest.FixtureRequest) -> None:
    objects: Objects = request.getfixturevalue(rendered)
    deployments = of_kind(objects, "Deployment")
    assert deployments
    for deployment in deployments:
        pod = deployment["spec"]["template"]["spec"]
        assert pod["automountServiceAccountToken"] is False
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        assert pod["topologySpreadConstraints"]
        for container in pod["containers"]:
            where = f"{deployment['metadata']['name']}/{container['name']}"
            resources = container["resources"]
            for bound in ("requests", "limits"):
                assert {"cpu", "memory", "ephemeral-storage"} <= set(resources[bound]), where
            assert container["imagePullPolicy"] in ("IfNotPresent", "Always"), where
            assert ":latest" not in container["image"], where
            security = container["securityContext"]
            assert security["runAsNonRoot"] is True and security["runAsUser"] > 10000, where
            assert security["readOnlyRootFilesystem"] is True, where
            assert security["allowPrivilegeEscalation"] is False, where
            assert security["capabilities"]["drop"] == ["ALL"], where
            assert container["livenessProbe"]["httpGet"]["path"] == "/health/live", where
            assert container["startupProbe"]["httpGet"]["path"] == "/health/live", where
            assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready", where


@pytest.mark.parametrize("rendered", ["default", "production", "with_web"])
def test_every_workload_has_a_network_policy_a_pdb_and_autoscaling(
        rendered: str, request: pytest.FixtureRequest) -> None:
    objects: Objects = request.getfixturevalue(rendered)
    scalers = {o["spec"]["scaleTargetRef"]["name"] for o in objects
               if o["kind"] in ("HorizontalPodAutoscaler", "ScaledObject")}
    for deployment in of_kind(objects, "Deployment"):
        name = deployment["metadata"]["name"]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        policies = [p for p in of_kind(objects, "NetworkPolicy")
                    if selects(p["spec"]["podSelector"]["matchLabels"], labels)]
        assert len(policies) == 1, name
        assert set(policies[0]["spec"]["policyTypes"]) == {"Ingress", "Egress"}, name
        assert [p for p in of_kind(objects, "PodDisruptionBudget")
                if selects(p["spec"]["selector"]["matchLabels"], labels)], name
        assert name in scalers, name
        # Autoscaled: the Deployment leaves the replica count to the scaler.
        assert "replicas" not in deployment["spec"], name
        # Exactly one scaler each: KEDA makes an HPA of its own.
        assert sum(1 for o in objects if o["kind"] in ("HorizontalPodAutoscaler",
                                                        "ScaledObject")
                   and o["spec"]["scaleTargetRef"]["name"] == name) == 1, name


def test_the_event_services_reach_only_dns_kafka_and_postgres(default: Objects) -> None:
    policies = named(default, "NetworkPolicy")
    for name, policy in policies.items():
        if name == "mf-web":
            continue
        ports = sorted({port["port"] for rule in policy["spec"]["egress"]
                        for port in rule["ports"]})
        assert ports == [53, 5432, 9092, 9093], name
        sources = policy["spec"]["ingress"][0]["from"]
        assert [s["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
                for s in sources if "namespaceSelector" in s] == ["ingress-nginx", "monitoring"]
        # ... and the web app of the same release (on by default).
        assert [s["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
                for s in sources if "podSelector" in s] == ["web"]
    web_ports = sorted(rule["ports"][0]["port"] for rule in policies["mf-web"]["spec"]["egress"])
    assert web_ports == [53, 8001, 8002, 8003, 8004]


def test_production_topics_have_three_replicas_and_two_in_sync(production: Objects
                                                              ) -> None:
    [config] = of_kind(production, "ConfigMap")
    assert config["data"]["MARKETFLOW_KAFKA_REPLICATION_FACTOR"] == "3"
    assert config["data"]["MARKETFLOW_KAFKA_MIN_INSYNC_REPLICAS"] == "2"
    assert config["data"]["MARKETFLOW_KAFKA_TOPIC_PARTITIONS"] == "6"
    topics = named(production, "KafkaTopic")
    assert set(topics) == {f"marketflow.{producer}.events{suffix}"
                           for producer in [*SERVICES, *EXTERNAL_TYPES]
                           for suffix in ("", ".dlq")}
    for name, topic in topics.items():
        spec = topic["spec"]
        assert spec["topicName"] == name
        assert (spec["partitions"], spec["replicas"]) == (6, 3)
        assert spec["config"]["min.insync.replicas"] == 2
        assert spec["config"]["cleanup.policy"] == "delete"
        assert spec["config"]["retention.ms"] == (15552000000 if name.endswith(".dlq")
                                                  else 2592000000)
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == "marketflow"


def test_strimzi_users_grant_exactly_the_access_policy(production: Objects) -> None:
    operations = {"Read": "READ", "Write": "WRITE", "Describe": "DESCRIBE",
                  "DescribeConfigs": "DESCRIBE_CONFIGS"}
    granted = {(user["metadata"]["name"], acl["resource"]["type"].upper(),
                acl["resource"]["name"], operations[operation])
               for user in of_kind(production, "KafkaUser")
               for acl in user["spec"]["authorization"]["acls"]
               for operation in acl["operations"]}
    policy = {(g.principal, g.resource_type, g.name, g.operation)
              for g in kafka_access.grants("marketflow")}
    assert granted == policy


def test_production_services_sign_in_as_themselves(production: Objects) -> None:
    for deployment in of_kind(production, "Deployment"):
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e for e in container["env"]}
        service = container["name"]
        if service == "web":  # no Kafka, no database: it calls the four APIs
            assert "MARKETFLOW_POSTGRES_URL" not in env
            continue
        assert env["MARKETFLOW_KAFKA_SASL_USERNAME"]["value"] == service
        assert env["MARKETFLOW_POSTGRES_URL"]["valueFrom"]["secretKeyRef"] == {
            "name": "marketflow-pg-app", "key": "uri"}
        volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
        assert volumes["kafka-user"]["secret"]["secretName"] == service
    scaled = named(production, "ScaledObject")
    for service in SERVICES:
        triggers = scaled[f"mf-{service}"]["spec"]["triggers"]
        assert sorted(t["metadata"]["topic"] for t in triggers if t["type"] == "kafka") == \
            sorted(f"marketflow.{upstream}.events" for upstream in UPSTREAM[service])
        assert {t["metadata"]["consumerGroup"] for t in triggers if t["type"] == "kafka"} == \
            {f"marketflow.{service}"}


def test_the_chart_knows_who_consumes_whom(default: Objects) -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert {name: values["services"][name]["consumes"] for name in SERVICES} == {
        name: list(UPSTREAM[name]) for name in SERVICES}


def test_the_web_app_is_on_by_default_and_exposed_by_the_ingress(
        default: Objects, with_web: Objects) -> None:
    web = named(default, "Deployment")["mf-web"]
    [container] = web["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["services.web"]
    env = {e["name"]: e for e in container["env"]}
    assert env["MARKETFLOW_WEB_PORT"]["value"] == "8080"
    assert env["MARKETFLOW_PLANNING_URL"]["value"] == "http://mf-planning:8001"
    # The session key: a Secret the chart made (kept across upgrades), the same for all.
    key_ref = env["MARKETFLOW_WEB_SESSION_KEY"]["valueFrom"]["secretKeyRef"]
    secret = named(default, "Secret")[key_ref["name"]]
    key = base64.b64decode(secret["data"][key_ref["key"]]).decode()
    Fernet(key)  # a valid Fernet key
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert not of_kind(default, "Ingress")
    [ingress] = of_kind(with_web, "Ingress")
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == "mf-web"
    web_policy = named(with_web, "NetworkPolicy")["mf-web"]
    assert sorted(rule["ports"][0]["port"] for rule in web_policy["spec"]["egress"]) == [
        53, 8001, 8002, 8003, 8004]
    # The APIs accept the web app's calls.
    planning = named(with_web, "NetworkPolicy")["mf-planning"]["spec"]["ingress"][0]["from"]
    assert {"podSelector": {"matchLabels": {
        "app.kubernetes.io/name": "web", "app.kubernetes.io/instance": "mf",
        "app.kubernetes.io/part-of": "marketflow"}}} in planning


def test_an_ingress_without_the_web_app_is_refused() -> None:
    result = helm("template", "mf", str(CHART), "--kube-version", KUBERNETES,
                  "--set", "ingress.enabled=true", "--set", "services.web.enabled=false")
    assert result.returncode != 0
    assert "ingress.enabled needs services.web.enabled" in result.stderr

