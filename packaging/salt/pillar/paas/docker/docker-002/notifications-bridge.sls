#   -------------------------------------------------------------
#   Salt — Provision Docker engine
#   - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - -
#   Project:        Nasqueron
#   License:        Trivial work, not eligible to copyright
#   Service:        Notifications bridge (real-time notifications page)
#   -------------------------------------------------------------
#
#   For rOPS: pillar/paas/docker/<node>/notifications-bridge.sls, listed
#   for the node in pillar/top.sls. The codename is notifications-bridge:
#   "notifications" already names the Notifications Center.
#
#   The bridge consumes Nasqueron's RabbitMQ (docs/amqp.md): the stream
#   queue notifications-bridge that pillar/saas/rabbitmq.sls declares,
#   read-only for the user notifications-bridge. Its password lives in
#   Vault at ops/secrets/nasqueron/notifications-bridge/rabbitmq (key
#   "password"); add that path to vault_secrets_by_role: paas-docker-prod
#   (docs/deploy.md, "Credentials").
#
#   To poll a delivery API instead, replace amqp_url and amqp_queue by
#   delivery_url: https://api.nasqueron.org/delivery, and credentials:
#   amqp by credentials: delivery (its bearer token's Vault path).
#   -------------------------------------------------------------

docker_images:
  - nasqueron/notifications-bridge

docker_containers:

  notifications-bridge:
    notifications-bridge:
      # Published on 127.0.0.1 only: api.nasqueron.org's nginx is the
      # way in (packaging/nginx/notifications.conf).
      app_port: 37180
      # No prefix stripping on api.nasqueron.org: the bridge serves every
      # route under it (API_ENTRY_POINT), e.g. /notifications/events.
      api_entry_point: /notifications
      # The broker, as the user its operators created (the host is a
      # placeholder: put the broker's address; AMQPS on 5671, vhost dev).
      # No password here: it comes from Vault.
      amqp_url: amqps://notifications-bridge@rabbitmq.nasqueron.org:5671/dev
      # The stream queue: ids are stream offsets, nothing is lost across
      # restarts, replicas agree. Without it: live mode (docs/amqp.md).
      amqp_queue: notifications-bridge
      credentials:
        amqp: nasqueron/notifications-bridge/rabbitmq
      # Pages published elsewhere that read the stream (CORS).
      allow_origins:
        - https://infra.nasqueron.org
      # Optional: any other NOTIFICATIONS_BRIDGE_<FLAG>, without the prefix.
      settings:
        MAX_CLIENTS: 1000

#   -------------------------------------------------------------
#   Monitoring
#
#   Merged into docker_containers_monitoring (pillar/paas/docker.sls):
#   the check queries http://localhost:<app_port><url> and expects an
#   HTTP 200 answering "ALIVE". The URL includes the entry point, since
#   every route is under it.
#   - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - -

docker_containers_monitoring:
  check_http_200_alive:
    notifications-bridge: /notifications/status
