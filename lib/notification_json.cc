// TODO: notification_json
