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
#   The delivery token lives in Vault at
#   ops/secrets/nasqueron/notifications-bridge/delivery (key "password");
#   add that path to vault_secrets_by_role: paas-docker-prod
#   (docs/deploy.md, "Credentials").
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
      delivery_url: https://api.nasqueron.org/delivery
      credentials:
        delivery: nasqueron/notifications-bridge/delivery
      # Pages published elsewhere that read the stream (CORS).
      allow_origins:
        - https://infra.nasqueron.org
      # Optional: any other NOTIFICATIONS_BRIDGE_<FLAG>, without the prefix.
      settings:
        POLL_INTERVAL: 2
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
