"""The deployment files: kustomize overlays render to valid Kubernetes objects, compose is
complete, and every setting is either configured or documented as left at its default.

No kubectl needed: `render` below is the small part of kustomize these overlays use
(resources, namespace, images, strategic-merge patches by kind and name). When kubectl
is installed, a test checks that `render` agrees with `kubectl kustomize`.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from shared import subjects
from shared.access import OPERATOR, SERVICE_USERS
from shared.broker import CONSUMERS
from shared.settings import environment_table, services_of
from videogen.natsconf import deploy_authorization, password_variable

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = sorted(path.parent for path in (K8S / "overlays").glob("*/kustomization.yaml"))
STAGES = ("gateway", "planner", "narrator", "coder", "renderer", "storage")
CLUSTER_SCOPED = {"Namespace"}
Doc = dict[str, Any]


def _documents(path: Path) -> list[Doc]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _merge(base: Any, patch: Any) -> Any:
    """Strategic merge as these patches need it: maps deep-merge, named lists merge by name."""
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for key, value in patch.items():
            merged[key] = _merge(base[key], value) if key in base else value
        return merged
    if (
        isinstance(base, list)
        and isinstance(patch, list)
        and all(isinstance(item, dict) and "name" in item for item in base + patch)
    ):
        merged_list = list(base)
        for item in patch:
            index = next(
                (i for i, old in enumerate(merged_list) if old["name"] == item["name"]), None
            )
            if index is None:
                merged_list.append(item)
            else:
                merged_list[index] = _merge(merged_list[index], item)
        return merged_list
    return patch


def _key(doc: Doc) -> tuple[str, str]:
    return doc["kind"], doc["metadata"]["name"]


def render(folder: Path) -> list[Doc]:
    """The objects `kubectl kustomize folder` would print (for the features used here)."""
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
    docs: list[Doc] = []
    for entry in kustomization.get("resources", []):
        target = folder / entry
        docs += render(target) if target.is_dir() else _documents(target)
    docs = copy.deepcopy(docs)
    for patch in kustomization.get("patches", []):
        for change in _documents(folder / patch["path"]):
            matches = [i for i, doc in enumerate(docs) if _key(doc) == _key(change)]
            assert len(matches) == 1, f"patch {patch['path']} matches {_key(change)} {matches}"
            docs[matches[0]] = _merge(docs[matches[0]], change)
    for image in kustomization.get("images", []):
        for container in _containers(docs):
            name, _, _ = container["image"].partition(":")
            if name == image["name"]:
                container["image"] = f"{image.get('newName', name)}:{image.get('newTag', 'latest')}"
    if "namespace" in kustomization:
        for doc in docs:
            if doc["kind"] not in CLUSTER_SCOPED:
                doc["metadata"]["namespace"] = kustomization["namespace"]
    return docs


def _containers(docs: list[Doc]) -> list[Doc]:
    return [
        container
        for doc in docs
        if doc["kind"] in ("Deployment", "StatefulSet")
        for container in doc["spec"]["template"]["spec"]["containers"]
    ]


def _pod_specs(docs: list[Doc]) -> dict[str, Doc]:
    return {
        doc["metadata"]["name"]: doc["spec"]["template"]["spec"]
        for doc in docs
        if doc["kind"] in ("Deployment", "StatefulSet")
    }


@pytest.fixture(scope="module", params=OVERLAYS, ids=lambda path: path.name)
def rendered(request: pytest.FixtureRequest) -> list[Doc]:
    return render(request.param)


def test_overlays_exist_and_share_one_base():
    assert {path.name for path in OVERLAYS} == {"dev", "production"}
    for overlay in OVERLAYS:
        resources = yaml.safe_load((overlay / "kustomization.yaml").read_text())["resources"]
        assert "../../base" in resources


def test_every_object_is_valid_kubernetes(rendered: list[Doc]):
    version = kubernetes_validate.latest_version()
    for doc in rendered:
        if doc["apiVersion"].startswith("keda.sh/"):
            continue  # a CRD: checked by test_keda_scales_each_stage_on_its_consumer
        kubernetes_validate.validate(doc, version, strict=True)


def test_a_deployment_per_stage_and_a_gateway_service(rendered: list[Doc]):
    kinds = {_key(doc) for doc in rendered}
    for stage in STAGES:
        assert ("Deployment", stage) in kinds
    assert ("Service", "gateway") in kinds
    assert ("StatefulSet", "nats") in kinds
    nats = next(doc for doc in rendered if _key(doc) == ("StatefulSet", "nats"))
    assert "-js" in nats["spec"]["template"]["spec"]["containers"][0]["args"]
    assert nats["spec"]["volumeClaimTemplates"]


def test_pods_are_locked_down(rendered: list[Doc]):
    for name, pod in _pod_specs(rendered).items():
        assert pod["automountServiceAccountToken"] is False, name
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        profile = pod["securityContext"]["seccompProfile"]
        if name == "renderer":  # the render jail needs user namespaces (deploy/k8s/seccomp)
            assert profile == {"type": "Localhost", "localhostProfile": "videogen-renderer.json"}
        else:
            assert profile["type"] == "RuntimeDefault", name
        mounts = {mount["mountPath"] for mount in pod["containers"][0]["volumeMounts"]}
        assert "/tmp" in mounts, name
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["capabilities"]["drop"] == ["ALL"], name
            assert container["resources"]["limits"]["memory"], name
            assert "livenessProbe" in container and "readinessProbe" in container, name


def _bytes(quantity: str) -> float:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    number, unit = re.fullmatch(r"([\d.]+)(\w*)", quantity).groups()  # type: ignore[union-attr]
    return float(number) * units.get(unit, 1)


def test_renderer_has_most_memory_no_secrets_and_only_nats(rendered: list[Doc]):
    pods = _pod_specs(rendered)
    memory = {
        stage: _bytes(pods[stage]["containers"][0]["resources"]["limits"]["memory"])
        for stage in STAGES
    }
    assert max(memory, key=memory.__getitem__) == "renderer"
    renderer = pods["renderer"]["containers"][0]
    assert all("secretRef" not in source for source in renderer["envFrom"])
    secrets = [variable for variable in renderer.get("env", []) if "valueFrom" in variable]
    assert [(v["name"], v["valueFrom"]["secretKeyRef"]["key"]) for v in secrets] == [
        ("NATS_PASSWORD", password_variable("renderer"))
    ]
    policy = next(doc for doc in rendered if _key(doc) == ("NetworkPolicy", "renderer-nats-only"))
    assert policy["spec"]["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "renderer"}
    assert set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    egress_ports = {port["port"] for rule in policy["spec"]["egress"] for port in rule["ports"]}
    assert egress_ports == {4222, 53}


def test_probes_hit_the_health_endpoints(rendered: list[Doc]):
    pods = _pod_specs(rendered)
    gateway = pods["gateway"]["containers"][0]
    assert (
        gateway["livenessProbe"]["httpGet"]["path"],
        gateway["readinessProbe"]["httpGet"]["path"],
    ) == ("/health", "/ready")
    for stage in STAGES[1:]:
        container = pods[stage]["containers"][0]
        assert container["args"] == [stage]
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_autoscaling_targets_each_stage(rendered: list[Doc]):
    scaled = {
        doc["spec"]["scaleTargetRef"]["name"]
        for doc in rendered
        if doc["kind"] in ("ScaledObject", "HorizontalPodAutoscaler")
    }
    assert scaled == set(STAGES)


def test_keda_scales_each_stage_on_its_consumer():
    docs = render(K8S / "autoscaling" / "keda")
    consumers: set[str] = set()
    for doc in docs:
        assert doc["apiVersion"] == "keda.sh/v1alpha1" and doc["kind"] == "ScaledObject"
        assert doc["spec"]["scaleTargetRef"]["name"] in STAGES
        assert 1 <= doc["spec"]["minReplicaCount"] <= doc["spec"]["maxReplicaCount"]
        for trigger in doc["spec"]["triggers"]:
            if trigger["type"] != "nats-jetstream":
                continue
            meta = trigger["metadata"]
            assert meta["stream"] == subjects.STREAM
            assert meta["consumer"] in CONSUMERS
            assert CONSUMERS[meta["consumer"]].durable.startswith(doc["metadata"]["name"])
            assert int(meta["lagThreshold"]) >= 1
            consumers.add(meta["consumer"])
    assert {"planner", "narrator", "coder", "coder-narrated", "renderer", "storage"} <= consumers


def _configured_in_k8s() -> set[str]:
    docs = render(K8S / "base")
    names: set[str] = set()
    for doc in docs:
        if doc["kind"] == "ConfigMap" and doc["metadata"]["name"].startswith("videogen"):
            names |= set(doc["data"])
        if doc["kind"] == "Secret":
            names |= set(doc.get("stringData", {})) | set(doc.get("data", {}))
    for container in _containers(docs):
        names |= {variable["name"] for variable in container.get("env", [])}
    return names


def _k8s_environment(docs: list[Doc], container: Doc) -> dict[str, str]:
    """Every variable a container gets, with where it comes from (a ConfigMap or Secret)."""
    by_name = {_key(doc): doc for doc in docs}
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        kind, ref = (
            ("ConfigMap", "configMapRef") if "configMapRef" in source else ("Secret", "secretRef")
        )
        doc = by_name[(kind, source[ref]["name"])]
        data = doc.get("data") or doc.get("stringData") or {}
        env |= {name: f"{kind}/{doc['metadata']['name']}" for name in data}
    for variable in container.get("env", []):
        reference = variable.get("valueFrom", {}).get("secretKeyRef")
        env[variable["name"]] = (
            f"Secret/{reference['name']}/{reference['key']}" if reference else variable["value"]
        )
    return env


def _compose() -> Doc:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_every_setting_is_configured_or_documented_as_defaulted():
    readme = (K8S / "README.md").read_text()
    compose_env: set[str] = set()
    for service in _compose()["services"].values():
        compose_env |= set(service.get("environment") or {})
    configured = _configured_in_k8s()
    for variable, _default in environment_table():
        documented = f"`{variable}`" in readme
        assert documented or (variable in configured and variable in compose_env), (
            f"{variable}: set it in deploy/k8s/base/config.yaml and docker-compose.yml, "
            "or list it in deploy/k8s/README.md as left at its default"
        )


def test_compose_runs_every_service_from_one_image():
    compose = _compose()
    services = compose["services"]
    assert {"nats", "minio", "qdrant", *STAGES} <= set(services)
    assert services["nats"]["command"] == ["-c", "/etc/nats/nats.conf"]
    assert "./deploy/nats:/etc/nats:ro" in services["nats"]["volumes"]
    assert "healthcheck" in services["nats"]
    images = {services[stage]["image"] for stage in STAGES}
    assert len(images) == 1
    for stage in STAGES:
        assert services[stage]["command"] == [stage]
        env = services[stage]["environment"]
        assert env["NATS_URL"] == "nats://nats:4222"
    for stage in ("gateway", "storage"):
        assert services[stage]["environment"]["VIDEO_STORAGE_MODE"] == "s3_only"
    assert "8000:8000" in services["gateway"]["ports"]
    assert "AWS_SECRET_ACCESS_KEY" not in services["renderer"]["environment"]
    data_volumes = {stage: services[stage].get("volumes", []) for stage in ("gateway", "storage")}
    assert data_volumes["gateway"] == data_volumes["storage"] == ["data:/data"]


def test_dockerfile_runs_as_uid_10001_with_the_worker_entrypoint():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM python:3.11-slim-bookworm" in dockerfile
    assert "USER 10001" in dockerfile
    assert 'ENTRYPOINT ["videogen", "worker"]' in dockerfile
    assert "scripts/system-packages.sh" in dockerfile  # the developers' package list
    packages = (ROOT / "scripts" / "system-packages.sh").read_text()
    for package in (
        "libcairo2-dev",
        "libpango1.0-dev",
        "texlive-latex-extra",
        "dvisvgm",
        "libegl-mesa0",
    ):
        assert package in packages


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
@pytest.mark.parametrize("overlay", OVERLAYS, ids=lambda path: path.name)
def test_render_agrees_with_kubectl_kustomize(overlay: Path):
    printed = subprocess.run(
        ["kubectl", "kustomize", str(overlay)], check=True, capture_output=True, text=True
    ).stdout
    expected = {_key(doc): doc for doc in yaml.safe_load_all(printed) if doc}
    assert {_key(doc): doc for doc in render(overlay)} == expected


# Who gets which variable: shared/settings.py (`services=`) is the table; compose and
# k8s must give no service a variable the table keeps from it, and every service the
# credentials it needs.
SCOPED_SECRETS = (
    "OPENAI_API_KEY",
    "OPENROUTER_API_KEY",
    "VLLM_API_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "API_KEYS",
)
SETTINGS = {name for name, _ in environment_table()}


def _leaks(stage: str, variables: set[str]) -> list[str]:
    return sorted(name for name in variables & SETTINGS if stage not in services_of(name))


def _missing(stage: str, variables: set[str]) -> list[str]:
    return sorted(
        name for name in SCOPED_SECRETS if stage in services_of(name) and name not in variables
    )


def test_compose_gives_each_service_only_its_variables():
    services = _compose()["services"]
    for stage in STAGES:
        env = services[stage]["environment"]
        assert _leaks(stage, set(env)) == [], stage
        assert _missing(stage, set(env)) == [], stage
        assert env["NATS_USER"] == stage
        assert env["NATS_PASSWORD"].startswith("${" + password_variable(stage) + ":?")
    assert _leaks("renderer", set(services["renderer"]["environment"])) == []
    nats_env = services["nats"]["environment"]
    assert set(nats_env) == {password_variable(user) for user in (*SERVICE_USERS, OPERATOR)}


def test_k8s_gives_each_service_only_its_variables(rendered: list[Doc]):
    pods = _pod_specs(rendered)
    for stage in STAGES:
        env = _k8s_environment(rendered, pods[stage]["containers"][0])
        assert _leaks(stage, set(env)) == [], stage
        assert _missing(stage, set(env)) == [], stage
        assert env["NATS_USER"] == stage
        assert env["NATS_PASSWORD"] == f"Secret/videogen-nats/{password_variable(stage)}"


def test_nats_users_come_from_the_access_table(rendered: list[Doc]):
    expected = deploy_authorization()
    assert (ROOT / "deploy" / "nats" / "auth.conf").read_text() == expected, (
        "regenerate: python -m videogen.natsconf > deploy/nats/auth.conf (and nats.yaml)"
    )
    config = next(doc for doc in rendered if _key(doc) == ("ConfigMap", "nats-config"))
    assert config["data"]["auth.conf"] == expected
    assert "include auth.conf" in config["data"]["nats.conf"]
    assert "max_file_store" in config["data"]["nats.conf"]
    compose_conf = (ROOT / "deploy" / "nats" / "nats.conf").read_text()
    assert "include auth.conf" in compose_conf and "max_file_store" in compose_conf


def test_base_runs_a_three_node_jetstream_cluster():
    docs = render(K8S / "base")
    nats = next(doc for doc in docs if _key(doc) == ("StatefulSet", "nats"))
    spec = nats["spec"]
    assert spec["replicas"] == 3
    headless = next(doc for doc in docs if _key(doc) == ("Service", spec["serviceName"]))
    assert headless["spec"]["clusterIP"] == "None"
    assert {port["port"] for port in headless["spec"]["ports"]} >= {4222, 6222}
    anti = spec["template"]["spec"]["affinity"]["podAntiAffinity"]
    rule = anti["requiredDuringSchedulingIgnoredDuringExecution"][0]
    assert rule["topologyKey"] == "kubernetes.io/hostname"
    assert rule["labelSelector"]["matchLabels"] == spec["selector"]["matchLabels"]
    budget = next(doc for doc in docs if doc["kind"] == "PodDisruptionBudget")
    assert budget["spec"]["selector"]["matchLabels"] == spec["selector"]["matchLabels"]
    assert budget["spec"]["maxUnavailable"] == 1
    policy = next(
        doc for doc in docs if _key(doc) == ("NetworkPolicy", "nats-routes-between-nodes-only")
    )
    route_rule = next(
        rule
        for rule in policy["spec"]["ingress"]
        if rule["ports"] == [{"protocol": "TCP", "port": 6222}]
    )
    assert route_rule["from"] == [{"podSelector": {"matchLabels": spec["selector"]["matchLabels"]}}]
    conf = next(doc for doc in docs if _key(doc) == ("ConfigMap", "nats-config"))
    routes = re.findall(r"nats://(nats-\d)\.nats-cluster\.", conf["data"]["nats.conf"])
    assert routes == [f"nats-{index}" for index in range(3)]
    settings = next(doc for doc in docs if _key(doc) == ("ConfigMap", "videogen-config"))
    assert settings["data"]["JETSTREAM_REPLICAS"] == "3"


def test_dev_overlay_runs_one_nats_node():
    docs = render(K8S / "overlays" / "dev")
    nats = next(doc for doc in docs if _key(doc) == ("StatefulSet", "nats"))
    assert nats["spec"]["replicas"] == 1
    conf = next(doc for doc in docs if _key(doc) == ("ConfigMap", "nats-config"))
    assert "cluster" not in conf["data"]["nats.conf"]
    assert conf["data"]["auth.conf"] == deploy_authorization()
    settings = next(doc for doc in docs if _key(doc) == ("ConfigMap", "videogen-config"))
    assert settings["data"]["JETSTREAM_REPLICAS"] == "1"
