#   -------------------------------------------------------------
#   Salt — Provision Docker engine
#   - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - -
#   Project:        Nasqueron
#   License:        Trivial work, not eligible to copyright
#   -------------------------------------------------------------
#
#   For rOPS: roles/paas-docker/containers/notifications-bridge.sls
#   (included by containers/init.sls for every codename of the node's
#   docker_containers pillar).
#   -------------------------------------------------------------

{% for instance, container in pillar['docker_containers']['notifications-bridge'].items() %}

#   -------------------------------------------------------------
#   State directory: the cursor survives container upgrades
#
#   The image runs as uid/gid 10080 (packaging/docker/Dockerfile).
#   - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - -

/srv/{{ instance }}/state:
  file.directory:
    - user: 10080
    - group: 10080
    - mode: 700
    - makedirs: True

#   -------------------------------------------------------------
#   Container
#
#   Image:          nasqueron/notifications-bridge
#   Description:    Consumes Nasqueron's RabbitMQ (or polls the
#                   notifications delivery API), streams new
#                   notifications to browsers (Server-Sent Events)
#   Services used:  RabbitMQ (AMQP, password from Vault), or
#                   notifications-delivery (HTTP, bearer token)
#   - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - -

{{ instance }}:
  docker_container.running:
    - detach: True
    - interactive: True
    - image: nasqueron/notifications-bridge
    - binds: /srv/{{ instance }}/state:/var/lib/notifications-bridge
    - environment:
        - API_ENTRY_POINT: {{ container['api_entry_point'] }}
{% if container.get('amqp_url') %}
        - NOTIFICATIONS_BRIDGE_AMQP_URL: {{ container['amqp_url'] }}
        - NOTIFICATIONS_BRIDGE_AMQP_PASSWORD: {{ salt['credentials.get_password'](container['credentials']['amqp']) }}
{% if container.get('amqp_queue') %}
        - NOTIFICATIONS_BRIDGE_AMQP_QUEUE: {{ container['amqp_queue'] }}
{% endif %}
{% else %}
        - NOTIFICATIONS_BRIDGE_DELIVERY_URL: {{ container['delivery_url'] }}
        - NOTIFICATIONS_BRIDGE_TOKEN: {{ salt['credentials.get_token'](container['credentials']['delivery']) }}
{% endif %}
{% if container.get('allow_origins') %}
        - NOTIFICATIONS_BRIDGE_ALLOW_ORIGIN: {{ container['allow_origins'] | join(',') }}
{% endif %}
{% for key, value in container.get('settings', {}).items() %}
        - NOTIFICATIONS_BRIDGE_{{ key | upper }}: {{ value }}
{% endfor %}
    # Non-root in the image: let it bind port 80 whatever the engine's
    # default (Docker 20.10+ already does this).
    - sysctls:
        net.ipv4.ip_unprivileged_port_start: 0
    - ports:
        - 80
    - port_bindings:
        - 127.0.0.1:{{ container['app_port'] }}:80
    - restart_policy: unless-stopped

{% endfor %}
