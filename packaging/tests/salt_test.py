#!/usr/bin/python3
"""The Salt snippets of packaging/salt/ render and mean what they say.

Renders, with Jinja2 and a stand-in for Salt's execution modules (as
`salt-call --local` would, without a master or Vault):
  - the pillar example (plain YAML) and the container state with it, then
    loads the result as YAML and checks the docker_container.running
    arguments: image, port published on 127.0.0.1 only, state volume,
    environment (API_ENTRY_POINT; the AMQP URL, stream queue and password
    from the credentials key, or the delivery URL and token: the state is
    rendered for both sources);
  - packaging/nginx/notifications.conf with the same pillar, as rOPS
    renders its vhosts.
Then runs the real bridge with the rendered environment (upstream: a real
mock when polling; for AMQP a port nobody listens on, so /healthz must say
degraded, AMQP; the published port replaced by a free one) and queries the
health check the pillar declares, computed as rOPS's
paas_docker.get_health_checks does (http://localhost:<app_port><url>): it
must answer 200 "ALIVE".

Usage: salt_test.py BRIDGE_EXE MOCK_EXE   (ctest: packaging_salt)
Needs python3-jinja2 and python3-yaml (scripts/install-deps.sh test);
exits 77 (skipped) without them.
"""
import os
import pathlib
import re
import subprocess
import sys
import time
import urllib.request

try:
    import jinja2
    import yaml
except ImportError as err:
    # The suite's skip policy (packaging/tests/prerequisites.sh).
    why = f"{err} (scripts/install-deps.sh test installs python3-jinja2 python3-yaml)"
    if os.environ.get("NB_REQUIRE_PREREQUISITES") == "1":
        print(f"FAIL: prerequisite missing (NB_REQUIRE_PREREQUISITES=1): {why}", file=sys.stderr)
        sys.exit(1)
    print(f"SKIPPED: {why}")
    sys.exit(77)

SRC = pathlib.Path(__file__).resolve().parents[2]
SALT = SRC / "packaging" / "salt"
PILLAR = SALT / "pillar/paas/docker/docker-002/notifications-bridge.sls"
STATE = SALT / "roles/paas-docker/containers/notifications-bridge.sls"
NGINX = SRC / "packaging/nginx/notifications.conf"
REPLICAS_PILLAR = SALT / "pillar/paas/docker/docker-002/notifications-bridge-replicas.sls"
NGINX_UPSTREAM = SRC / "packaging/nginx/notifications-upstream.conf"
NGINX_REPLICAS = SRC / "packaging/nginx/notifications-replicas.conf"
CODENAME = "notifications-bridge"
FAKE_TOKEN = "00000000-1111-2222-3333-444444444444"


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


class FakeSalt(dict):
    """salt[...] in templates: the credentials module reads Vault in rOPS."""

    def __init__(self):
        super().__init__()
        self.vault_reads = []
        self["credentials.get_token"] = self._secret
        self["credentials.get_password"] = self._secret

    def _secret(self, key, prefix=None):
        self.vault_reads.append(key)
        return FAKE_TOKEN


def render(path, **context):
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    return env.from_string(path.read_text()).render(**context)


def start(argv, env):
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 10
    output = ""
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        output += line
        match = re.search(r"listening on http://[^:\s]+:(\d+)", line)
        if match:
            return proc, int(match.group(1)), line
    proc.kill()
    fail(f"{argv[0]} did not start:\n{output}")


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def check_replicas():
    """The replicated pillar: N containers from one list of ports, each with
    its own port, state directory and health check, and the same settings;
    the nginx upstream group lists exactly their ports."""
    pillar = yaml.safe_load(render(REPLICAS_PILLAR))
    instances = pillar["docker_containers"][CODENAME]
    check(len(instances) >= 2, f"replicas pillar declares {len(instances)} instance(s)")
    ports = [c["app_port"] for c in instances.values()]
    check(len(set(ports)) == len(ports), f"replica ports are not distinct: {ports}")
    first = next(iter(instances.values()))
    for name, container in instances.items():
        same = {k: v for k, v in container.items() if k != "app_port"}
        check(same == {k: v for k, v in first.items() if k != "app_port"},
              f"replica {name} differs from the others beyond its port")
    checks = pillar["docker_containers_monitoring"]["check_http_200_alive"]
    check(set(checks) == set(instances), f"health checks {sorted(checks)} != replicas {sorted(instances)}")
    state = yaml.safe_load(render(STATE, pillar=pillar, salt=FakeSalt(), grains={"id": "docker-002"}))
    for name, container in instances.items():
        check(name in state and f"/srv/{name}/state" in state, f"no container or state directory for {name}")
        args = {}
        for item in state[name]["docker_container.running"]:
            args.update(item)
        check(args["port_bindings"] == [f"127.0.0.1:{container['app_port']}:80"], f"{name} port binding")
    upstream = render(NGINX_UPSTREAM, replica_ports=ports)
    servers = re.findall(r"^\s*server 127\.0\.0\.1:(\d+)", upstream, re.M)
    check(servers == [str(p) for p in ports], f"nginx upstream servers {servers} != pillar ports {ports}")
    location = render(NGINX_REPLICAS, api_entry_point=first["api_entry_point"])
    check("{{" not in upstream + location and "{%" not in upstream + location, "unrendered template")
    check("proxy_pass http://notifications_bridge;" in location, "replicas location does not use the group")
    print(f"replicas: {len(instances)} containers on ports {ports}, nginx upstream renders them")


def check_state(pillar, instance, container):
    """Renders the container state with `pillar` and checks it; returns the
    container's environment."""
    salt = FakeSalt()
    rendered = render(STATE, pillar=pillar, salt=salt, grains={"id": "docker-002"})
    state = yaml.safe_load(rendered)
    check(instance in state, f"no state for {instance}:\n{rendered}")
    args = {}
    for item in state[instance]["docker_container.running"]:
        args.update(item)
    check(args["image"] == f"nasqueron/{CODENAME}", "image")
    check(args["port_bindings"] == [f"127.0.0.1:{container['app_port']}:80"],
          f"port_bindings {args['port_bindings']}: must publish 80 on 127.0.0.1 only")
    check(args["ports"] == [80], "container port must be 80")
    check(args["binds"] == f"/srv/{instance}/state:/var/lib/notifications-bridge", "state volume")
    check(f"/srv/{instance}/state" in state, "no state directory")
    environment = {}
    for item in args["environment"]:
        environment.update({k: str(v) for k, v in item.items()})
    check(environment.get("API_ENTRY_POINT") == container["api_entry_point"], "API_ENTRY_POINT")
    if "amqp_url" in container:
        check(environment.get("NOTIFICATIONS_BRIDGE_AMQP_URL") == container["amqp_url"], "AMQP URL")
        check(environment.get("NOTIFICATIONS_BRIDGE_AMQP_QUEUE") == container["amqp_queue"], "AMQP queue")
        check(environment.get("NOTIFICATIONS_BRIDGE_AMQP_PASSWORD") == FAKE_TOKEN,
              "AMQP password not from the credentials module")
        check("NOTIFICATIONS_BRIDGE_DELIVERY_URL" not in environment, "both sources set")
        vault = container["credentials"]["amqp"]
    else:
        check(environment.get("NOTIFICATIONS_BRIDGE_DELIVERY_URL") == container["delivery_url"], "delivery URL")
        check(environment.get("NOTIFICATIONS_BRIDGE_TOKEN") == FAKE_TOKEN, "token not from the credentials module")
        check("NOTIFICATIONS_BRIDGE_AMQP_URL" not in environment, "both sources set")
        vault = container["credentials"]["delivery"]
    check(salt.vault_reads == [vault], f"Vault reads {salt.vault_reads}, expected the pillar's {vault}")
    check(environment.get("NOTIFICATIONS_BRIDGE_ALLOW_ORIGIN") == ",".join(container["allow_origins"]),
          "allow origins")
    for key, value in container.get("settings", {}).items():
        check(environment.get(f"NOTIFICATIONS_BRIDGE_{key.upper()}") == str(value), f"setting {key}")
    print(f"state: {len(environment)} environment variables, secret from Vault path {vault}")
    return environment


def main():
    bridge_exe, mock_exe = sys.argv[1], sys.argv[2]
    check_replicas()

    # --- Pillar ---------------------------------------------------------
    pillar = yaml.safe_load(PILLAR.read_text())
    check(CODENAME in pillar["docker_containers"], f"pillar declares no {CODENAME}")
    check(f"nasqueron/{CODENAME}" in pillar["docker_images"], "image not in docker_images")
    instances = pillar["docker_containers"][CODENAME]
    check(len(instances) >= 1, "no instance")
    instance, container = next(iter(instances.items()))
    amqp = "amqp_url" in container
    for key in ("app_port", "api_entry_point", "credentials") + (
            ("amqp_url", "amqp_queue") if amqp else ("delivery_url",)):
        check(key in container, f"pillar lacks {key}")
    secret = "amqp" if amqp else "delivery"
    check(secret in container["credentials"], f"no credentials.{secret} (Vault path)")
    check(container["api_entry_point"].startswith("/") and not container["api_entry_point"].endswith("/"),
          "api_entry_point must be /name")
    checks = pillar["docker_containers_monitoring"]["check_http_200_alive"]
    check(CODENAME in checks, "no check_http_200_alive entry")
    health_url_path = checks[CODENAME]
    check(health_url_path == container["api_entry_point"] + "/status",
          f"health check {health_url_path} is not {container['api_entry_point']}/status")

    # --- State, for the pillar's source and for the other one ------------
    environment = check_state(pillar, instance, container)
    other = dict(container)
    if amqp:
        for key in ("amqp_url", "amqp_queue"):
            other.pop(key)
        other["delivery_url"] = "https://api.nasqueron.org/delivery"
        other["credentials"] = {"delivery": "nasqueron/notifications-bridge/delivery"}
    else:
        other.pop("delivery_url")
        other["amqp_url"] = "amqps://notifications-bridge@rabbitmq.test:5671/dev"
        other["amqp_queue"] = "notifications-bridge"
        other["credentials"] = {"amqp": "nasqueron/notifications-bridge/rabbitmq"}
    check_state({**pillar, "docker_containers": {CODENAME: {instance: other}}}, instance, other)

    # --- nginx location, rendered as rOPS renders vhosts ----------------
    nginx = render(NGINX, app_port=container["app_port"], api_entry_point=container["api_entry_point"])
    check("{{" not in nginx and "{%" not in nginx, "unrendered template left in nginx conf")
    check(f"location {container['api_entry_point']} {{" in nginx, "nginx location is not the entry point")
    check(f"proxy_pass http://127.0.0.1:{container['app_port']};" in nginx, "nginx proxy_pass port")

    # --- The rendered environment runs, and the health check answers ----
    mock, mock_port, _ = start([mock_exe, "--port", "0", "--log-level", "warn"], dict(os.environ))
    bridge = None
    try:
        env = {"PATH": "/usr/bin:/bin", **environment,
               # The image listens on 0.0.0.0:80; here a free loopback port.
               "NOTIFICATIONS_BRIDGE_LISTEN": "127.0.0.1:0",
               "NOTIFICATIONS_BRIDGE_LOG_LEVEL": "error"}
        if amqp:
            # No broker here: a closed port. The bridge must still serve its
            # health check, and say in /healthz what it waits for.
            user = container["amqp_url"].split("://", 1)[1].split("@", 1)[0]
            env["NOTIFICATIONS_BRIDGE_AMQP_URL"] = f"amqp://{user}@127.0.0.1:{mock_port}/dev"
            mock.terminate()
            mock.wait(timeout=10)
            mock = None
        else:
            env["NOTIFICATIONS_BRIDGE_DELIVERY_URL"] = f"http://127.0.0.1:{mock_port}/delivery"
        bridge, port, line = start([bridge_exe], env)
        print(f"bridge: {line.strip()}")
        # paas_docker._get_health_check_url, app_port replaced by the test's.
        url = f"http://localhost:{port}{health_url_path}"
        status, body = get(url)
        check((status, body) == (200, "ALIVE"), f"health check {url}: {status} {body!r}")
        print(f"health check {health_url_path}: 200 ALIVE")
        healthz = f"http://127.0.0.1:{port}{container['api_entry_point']}/healthz"
        if amqp:
            deadline = time.time() + 10
            while time.time() < deadline:
                status, body = get(healthz)
                if '"consecutiveFailures":0' not in body:
                    break
                time.sleep(0.2)
            check(status == 503 and '"source":"amqp"' in body and "connect" in body,
                  f"healthz without a broker: {status} {body}")
            check(FAKE_TOKEN not in body, "the password shows in /healthz")
            print("AMQP settings taken, no broker here: degraded, as it should")
        else:
            deadline = time.time() + 10
            while time.time() < deadline:
                status, body = get(healthz)
                if status == 200:
                    break
                time.sleep(0.2)
            check(status == 200, f"healthz with the rendered token and URL: {status} {body}")
            print("upstream polled with the rendered settings: ok")
    finally:
        for proc in (bridge, mock):
            if proc:
                proc.terminate()
                proc.wait(timeout=10)
    print("PASS")


if __name__ == "__main__":
    main()
