#   -------------------------------------------------------------
#   Salt — Provision Docker engine
#   - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - -
#   Project:        Nasqueron
#   License:        Trivial work, not eligible to copyright
#   Service:        Notifications bridge, as N replicas
#   -------------------------------------------------------------
#
#   The replicated form of notifications-bridge.sls (use one or the
#   other): N identical bridge containers behind api.nasqueron.org's
#   nginx (packaging/nginx/notifications-upstream.conf and
#   notifications-replicas.conf; docs/scaling.md). The container state
#   (roles/paas-docker/containers/notifications-bridge.sls) is the same:
#   it makes one container per instance.
#
#   To add a replica, add its port to bridge_ports: one line. Each
#   replica gets an instance name (notifications-bridge-1, -2, ...), its
#   own state directory and its own health check.
#   -------------------------------------------------------------

{% set bridge_ports = [
    37181,
    37182,
    37183,
] %}

docker_images:
  - nasqueron/notifications-bridge

docker_containers:

  notifications-bridge:
{% for port in bridge_ports %}
    notifications-bridge-{{ loop.index }}:
      app_port: {{ port }}
      api_entry_point: /notifications
      delivery_url: https://api.nasqueron.org/delivery
      credentials:
        delivery: nasqueron/notifications-bridge/delivery
      allow_origins:
        - https://infra.nasqueron.org
      settings:
        POLL_INTERVAL: 2
        MAX_CLIENTS: 1000
{% endfor %}

#   -------------------------------------------------------------
#   Monitoring: each replica answers its own health check.
#   - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - -

docker_containers_monitoring:
  check_http_200_alive:
{% for port in bridge_ports %}
    notifications-bridge-{{ loop.index }}: /notifications/status
{% endfor %}
